// Training a compiled model on a labelled image set, as d2l's train_ch6 does:
// shuffled mini-batches per epoch (seeded), the train loss and accuracy
// averaged over the epoch, the test accuracy after it, a progress bar, a
// checkpoint per epoch, and resuming from one.
#pragma once

#include <constnet/idx.hpp>
#include <constnet/model.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace constnet {

// Images as floats in [0, 1] (d2l's ToTensor), (W, H, 1, N), and their labels.
struct dataset {
    buffer images;
    labels targets;
    int count() const { return targets.dim(0).extent(); }
};
dataset to_dataset(const data::labelled_images& d);
// The first `count` samples (for quick runs and tests).
dataset head(const dataset& d, int count);

// The order of the samples in epoch `epoch` (0-based): a Fisher-Yates shuffle
// seeded by (seed, epoch) alone, so a resumed run sees the same batches.
std::vector<int> epoch_order(int count, std::uint64_t seed, int epoch);
void gather_batch(const dataset& d, std::span<const int> indices, buffer& images, labels& targets);

struct epoch_record {
    int epoch = 0;  // 1-based
    double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
    double seconds = 0, images_per_second = 0;
};
std::string history_to_json(std::span<const epoch_record> history);
std::vector<epoch_record> history_from_json(const std::string& json);

// Draws the training curves (train loss, train accuracy, test accuracy per
// epoch), like d2l's Animator, as an SVG image.
void write_training_plot(const std::filesystem::path& path, std::span<const epoch_record> history,
                         const std::string& title);

// A one-line progress bar on stderr, redrawn in place when stderr is a
// terminal (and silent otherwise: logs get the per-epoch lines instead).
class progress_bar {
public:
    progress_bar(std::string label, long total);
    void update(long done, double running_loss);
    void finish();

private:
    std::string label_;
    long total_;
    bool tty_;
    std::chrono::steady_clock::time_point start_, last_;
};

struct fit_options {
    int epochs = 10;
    int batch = 256;
    optimizer opt = sgd(0.9f);
    std::uint64_t seed = 0;
    std::filesystem::path checkpoint;  // written after every epoch when set
    bool resume = false;               // continue from `checkpoint`
    bool progress = true;
};

namespace detail {
std::map<std::string, std::string> fit_metadata(const fit_options& o, int epoch, std::span<const epoch_record> history);
// Checks a checkpoint's metadata matches the run; returns the epochs done and the history so far.
int resume_point(const std::map<std::string, std::string>& meta, const fit_options& o,
                 const std::filesystem::path& path, std::vector<epoch_record>& history);
}  // namespace detail

// Mean loss and correct count over a whole data set, in batches.
template <const auto& Net>
batch_result evaluate_dataset(const model<Net>& m, const dataset& d, int batch = 1000) {
    double loss = 0;
    long correct = 0;
    const int n = d.count();
    for (int start = 0; start < n; start += batch) {
        const int count = std::min(batch, n - start);
        buffer x = d.images.cropped(d.images.dimensions() - 1, start, count);
        labels y = d.targets.cropped(0, start, count);
        x.translate(d.images.dimensions() - 1, -start);
        y.translate(0, -start);
        auto r = m.evaluate(x, y);
        loss += double(r.loss) * count;  // r.loss is the batch mean
        correct += r.correct;
    }
    return {static_cast<float>(loss / n), static_cast<int>(correct)};
}

template <const auto& Net>
std::vector<epoch_record> fit(model<Net>& m, const dataset& train, const dataset& test, const fit_options& o,
                              const std::function<void(const epoch_record&)>& on_epoch = {}) {
    std::vector<epoch_record> history;
    int start_epoch = 0;
    if (o.resume) start_epoch = detail::resume_point(m.load_checkpoint(o.checkpoint), o, o.checkpoint, history);
    const int n = train.count();
    buffer xb = model<Net>::make_input(o.batch);
    labels yb(o.batch);
    for (int e = start_epoch; e < o.epochs; ++e) {
        const auto order = epoch_order(n, o.seed, e);
        const auto t0 = std::chrono::steady_clock::now();
        double loss_sum = 0;
        long correct = 0;
        progress_bar bar(fmt::format("epoch {}/{}", e + 1, o.epochs), o.progress ? n : 0);
        for (int start = 0; start < n; start += o.batch) {
            const int count = std::min(o.batch, n - start);
            buffer x = count == o.batch ? xb : xb.cropped(xb.dimensions() - 1, 0, count);
            labels y = count == o.batch ? yb : yb.cropped(0, 0, count);
            gather_batch(train, std::span(order).subspan(start, count), x, y);
            auto r = m.train_step(x, y, o.opt);
            loss_sum += double(r.loss) * count;
            correct += r.correct;
            if (o.progress) bar.update(start + count, loss_sum / (start + count));
        }
        if (o.progress) bar.finish();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        epoch_record rec;
        rec.epoch = e + 1;
        rec.train_loss = loss_sum / n;
        rec.train_accuracy = double(correct) / n;
        auto t = evaluate_dataset(m, test);
        rec.test_loss = t.loss;
        rec.test_accuracy = double(t.correct) / test.count();
        rec.seconds = seconds;
        rec.images_per_second = n / seconds;
        history.push_back(rec);
        if (!o.checkpoint.empty()) m.save_checkpoint(o.checkpoint, detail::fit_metadata(o, e + 1, history));
        if (on_epoch) on_epoch(rec);
    }
    return history;
}

}  // namespace constnet
