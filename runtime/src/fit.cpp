#include <constnet/fit.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <fstream>
#include <random>
#include <unistd.h>

namespace constnet {

dataset to_dataset(const data::labelled_images& d) {
    dataset out;
    const auto& im = d.images;
    out.images = buffer(im.cols, im.rows, 1, im.count);
    std::transform(im.pixels.begin(), im.pixels.end(), out.images.data(), [](std::uint8_t p) { return p / 255.0f; });
    out.targets = labels(im.count);
    std::copy(d.labels.begin(), d.labels.end(), out.targets.data());
    return out;
}

dataset head(const dataset& d, int count) {
    count = std::min(count, d.count());
    dataset out;
    out.images = d.images.cropped(d.images.dimensions() - 1, 0, count).copy();
    out.targets = d.targets.cropped(0, 0, count).copy();
    return out;
}

std::vector<int> epoch_order(int count, std::uint64_t seed, int epoch) {
    std::vector<int> order(count);
    for (int k = 0; k < count; ++k) order[k] = k;
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(epoch) + 1);
    for (int k = count - 1; k > 0; --k) std::swap(order[k], order[rng() % static_cast<std::uint64_t>(k + 1)]);
    return order;
}

void gather_batch(const dataset& d, std::span<const int> indices, buffer& images, labels& targets) {
    const long sample = d.images.number_of_elements() / d.count();
    for (std::size_t k = 0; k < indices.size(); ++k) {
        std::copy_n(d.images.data() + indices[k] * sample, sample, images.data() + k * sample);
        targets.data()[k] = d.targets.data()[indices[k]];
    }
}

std::string history_to_json(std::span<const epoch_record> history) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : history)
        j.push_back({{"epoch", r.epoch},
                     {"train_loss", r.train_loss},
                     {"train_accuracy", r.train_accuracy},
                     {"test_loss", r.test_loss},
                     {"test_accuracy", r.test_accuracy},
                     {"seconds", r.seconds},
                     {"images_per_second", r.images_per_second}});
    return j.dump();
}

std::vector<epoch_record> history_from_json(const std::string& text) try {
    std::vector<epoch_record> out;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array()) throw error("training history: not a JSON array");
    for (const auto& e : j) {
        epoch_record r;
        r.epoch = e.at("epoch").get<int>();
        r.train_loss = e.at("train_loss").get<double>();
        r.train_accuracy = e.at("train_accuracy").get<double>();
        r.test_loss = e.at("test_loss").get<double>();
        r.test_accuracy = e.at("test_accuracy").get<double>();
        r.seconds = e.at("seconds").get<double>();
        r.images_per_second = e.at("images_per_second").get<double>();
        out.push_back(r);
    }
    return out;
} catch (const nlohmann::json::exception& e) {
    throw error(fmt::format("training history: {}", e.what()));
}

void write_training_plot(const std::filesystem::path& path, std::span<const epoch_record> history,
                         const std::string& title) {
    const double W = 640, H = 420, left = 60, right = 170, top = 40, bottom = 50;
    const double pw = W - left - right, ph = H - top - bottom;
    const int epochs = history.empty() ? 1 : history.back().epoch;
    double ymax = 1.0;
    for (const auto& r : history) ymax = std::max(ymax, r.train_loss);
    ymax = std::ceil(ymax * 2) / 2;
    auto X = [&](double e) { return left + (epochs > 1 ? (e - 1) / (epochs - 1) : 0.5) * pw; };
    auto Y = [&](double v) { return top + (1 - v / ymax) * ph; };
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
        "font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{}\" y=\"24\" font-size=\"15\">{}</text>\n",
        W, H, left, title);
    for (int k = 0; k <= 5; ++k) {  // horizontal grid and y labels
        const double v = ymax * k / 5;
        svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                           "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.1f}</text>\n",
                           left, Y(v), left + pw, Y(v), left - 6, Y(v) + 4, v);
    }
    for (int e = 1; e <= epochs; ++e)
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(e), top + ph + 18, e);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>\n", left + pw / 2, H - 10);
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", left, top,
                       pw, ph);
    struct series {
        const char* name;
        const char* color;
        const char* dash;
        double epoch_record::*field;
    };
    const series all[] = {{"train loss", "#1f77b4", "", &epoch_record::train_loss},
                          {"train acc", "#d62728", "6,3", &epoch_record::train_accuracy},
                          {"test acc", "#2ca02c", "2,3", &epoch_record::test_accuracy}};
    int row = 0;
    for (const auto& s : all) {
        std::string points;
        for (const auto& r : history) points += fmt::format("{:.1f},{:.1f} ", X(r.epoch), Y(r.*s.field));
        svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
                           "stroke-dasharray=\"{}\"/>\n",
                           points, s.color, s.dash);
        for (const auto& r : history)
            svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", X(r.epoch), Y(r.*s.field),
                               s.color);
        const double ly = top + 20 + 22 * row++;
        svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" "
                           "stroke-dasharray=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
                           left + pw + 15, ly, left + pw + 45, ly, s.color, s.dash, left + pw + 52, ly + 4, s.name);
    }
    svg += "</svg>\n";
    const auto tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << svg;
        if (!out) throw error(fmt::format("cannot write the plot '{}'", tmp));
    }
    std::filesystem::rename(tmp, path);
}

progress_bar::progress_bar(std::string label, long total)
    : label_(std::move(label)), total_(total), tty_(total > 0 && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void progress_bar::update(long done, double running_loss) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    constexpr int width = 30;
    const int filled = static_cast<int>(width * done / std::max(total_, 1L));
    fmt::print(stderr, "\r{} [{}{}] {}/{} images  {:.0f} img/s  loss {:.4f}\033[K", label_, std::string(filled, '#'),
               std::string(width - filled, '.'), done, total_, seconds > 0 ? done / seconds : 0.0, running_loss);
}

void progress_bar::finish() {
    if (tty_) fmt::print(stderr, "\r\033[K");
}

interrupted::interrupted(const std::filesystem::path& checkpoint_path, int epoch_index, long samples_done,
                         long epoch_samples)
    : error(fmt::format("training interrupted in epoch {} after {} of {} samples; checkpoint written to '{}' "
                        "(resume from it to continue with the next batch)",
                        epoch_index + 1, samples_done, epoch_samples, checkpoint_path.string())),
      checkpoint(checkpoint_path), epoch(epoch_index), samples(samples_done) {}

namespace detail {

namespace {
volatile std::sig_atomic_t interrupt_flag = 0;
extern "C" void on_interrupt(int) { interrupt_flag = 1; }

double parse_real(const std::filesystem::path& path, const std::string& key, const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v) || v < 0)
        throw error(fmt::format("checkpoint '{}': metadata '{}' is \"{}\", expected a non-negative number",
                                path.string(), key, text.substr(0, 40)));
    return v;
}
}  // namespace

interrupt_guard::interrupt_guard(bool enable) : enabled_(enable) {
    if (!enabled_) return;
    interrupt_flag = 0;
    struct sigaction sa {};
    sa.sa_handler = &on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // a second signal ends the process as usual
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
}

interrupt_guard::~interrupt_guard() {
    if (!enabled_) return;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
}

bool interrupt_guard::requested() const { return enabled_ && interrupt_flag != 0; }

std::map<std::string, std::string> fit_metadata(const fit_options& o, const fit_position& at,
                                                std::span<const epoch_record> history) {
    return {{"fit.epoch", std::to_string(at.epoch)},
            {"fit.samples", std::to_string(at.samples)},
            {"fit.loss_sum", fmt::format("{:a}", at.loss_sum)},  // hex: a resumed run continues bit-exactly
            {"fit.correct", std::to_string(at.correct)},
            {"fit.seconds", fmt::format("{:a}", at.seconds)},
            {"fit.seed", std::to_string(o.seed)},
            {"fit.batch", std::to_string(o.batch)},
            {"fit.history", history_to_json(history)}};
}

void check_checkpoint_path(const std::filesystem::path& path) {
    const auto dir = path.parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
        throw error(fmt::format("fit: cannot write the checkpoint '{}': its directory '{}' does not exist "
                                "(create it, or choose another --checkpoint path)",
                                path.string(), dir.string()));
}

fit_position resume_point(const std::map<std::string, std::string>& meta, const fit_options& o,
                          const std::filesystem::path& path, std::vector<epoch_record>& history) {
    auto get = [&](const char* key) {
        auto it = meta.find(key);
        if (it == meta.end()) throw error(fmt::format("checkpoint '{}': no '{}' (not written by fit?)", path.string(), key));
        return it->second;
    };
    if (get("fit.seed") != std::to_string(o.seed) || get("fit.batch") != std::to_string(o.batch))
        throw error(fmt::format("checkpoint '{}': written with seed {} and batch {}, but this run has seed {} and batch {}; "
                                "resume with the same ones",
                                path.string(), get("fit.seed").substr(0, 40), get("fit.batch").substr(0, 40), o.seed,
                                o.batch));
    fit_position at;
    const long epoch = parse_count(path, "fit.epoch", get("fit.epoch"));
    at.samples = parse_count(path, "fit.samples", get("fit.samples"));
    at.loss_sum = parse_real(path, "fit.loss_sum", get("fit.loss_sum"));
    at.correct = parse_count(path, "fit.correct", get("fit.correct"));
    at.seconds = parse_real(path, "fit.seconds", get("fit.seconds"));
    if (epoch > std::numeric_limits<int>::max() - 1)
        throw error(fmt::format("checkpoint '{}': metadata 'fit.epoch' is {}, too large", path.string(), epoch));
    at.epoch = static_cast<int>(epoch);
    if (at.correct > at.samples)
        throw error(fmt::format("checkpoint '{}': {} correct of {} samples, expected at most as many correct as samples",
                                path.string(), at.correct, at.samples));
    try {
        history = history_from_json(get("fit.history"));
    } catch (const std::exception& e) {
        throw error(fmt::format("checkpoint '{}': metadata 'fit.history' is not a training history ({})", path.string(),
                                e.what()));
    }
    if (history.size() != static_cast<std::size_t>(at.epoch))
        throw error(fmt::format("checkpoint '{}': {} epochs done but {} in the history, expected one record per epoch",
                                path.string(), at.epoch, history.size()));
    for (std::size_t k = 0; k < history.size(); ++k)
        if (history[k].epoch != static_cast<int>(k + 1))
            throw error(fmt::format("checkpoint '{}': history record {} is for epoch {}, expected {}", path.string(), k,
                                    history[k].epoch, k + 1));
    return at;
}

}  // namespace detail
}  // namespace constnet
