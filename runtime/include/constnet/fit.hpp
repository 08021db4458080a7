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

#include <signal.h>

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
    std::filesystem::path checkpoint;  // written after every epoch, and on SIGINT/SIGTERM, when set
    bool resume = false;               // continue from `checkpoint` (an epoch's end or an interrupted batch)
    bool progress = true;
    // Called after every train step with the 0-based epoch and the samples of
    // it done so far (for progress reporting of one's own).
    std::function<void(int epoch, long samples)> on_batch;
};

// Thrown by fit() when SIGINT or SIGTERM arrived during training: the step in
// progress was finished, the checkpoint written, and fit(resume = true)
// continues from that very batch.
class interrupted : public error {
public:
    interrupted(const std::filesystem::path& checkpoint, int epoch, long samples, long epoch_samples);
    std::filesystem::path checkpoint;
    int epoch;     // 0-based epoch that was interrupted
    long samples;  // samples of it already trained on
};

namespace detail {
// Where a run stands: the epochs done and how far into the next one.
struct fit_position {
    int epoch = 0;       // completed epochs
    long samples = 0;    // samples of the next epoch already trained on (0 at an epoch boundary)
    double loss_sum = 0; // that partial epoch's running sums and time
    long correct = 0;
    double seconds = 0;
};
std::map<std::string, std::string> fit_metadata(const fit_options& o, const fit_position& at,
                                                std::span<const epoch_record> history);
// Throws unless a checkpoint can be written at `path` (its directory exists):
// checked before training, so a wrong path costs no epoch.
void check_checkpoint_path(const std::filesystem::path& path);
// Checks a checkpoint's metadata fits the run; returns the position and the history so far.
fit_position resume_point(const std::map<std::string, std::string>& meta, const fit_options& o,
                          const std::filesystem::path& path, std::vector<epoch_record>& history);

// While alive (and enabled), SIGINT and SIGTERM set a flag instead of ending
// the process; a second signal ends it as usual. The previous handlers come
// back on destruction.
class interrupt_guard {
public:
    explicit interrupt_guard(bool enable);
    ~interrupt_guard();
    interrupt_guard(const interrupt_guard&) = delete;
    interrupt_guard& operator=(const interrupt_guard&) = delete;
    bool requested() const;

private:
    bool enabled_;
    struct sigaction old_int_, old_term_;
};
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

// Trains for o.epochs epochs (d2l's train_ch6), calling on_epoch after each.
// Returns the whole history, including epochs done before a resume. With a
// checkpoint path, SIGINT/SIGTERM stop training at the next batch boundary:
// the checkpoint is written and `interrupted` thrown.
template <const auto& Net>
std::vector<epoch_record> fit(model<Net>& m, const dataset& train, const dataset& test, const fit_options& o,
                              const std::function<void(const epoch_record&)>& on_epoch = {}) {
    std::vector<epoch_record> history;
    detail::fit_position at;
    if (!o.checkpoint.empty()) detail::check_checkpoint_path(o.checkpoint);
    if (o.resume)  // the metadata is checked before anything is loaded: a refused checkpoint changes nothing
        m.load_checkpoint(o.checkpoint, [&](const auto& meta) { at = detail::resume_point(meta, o, o.checkpoint, history); });
    const detail::interrupt_guard interrupt(!o.checkpoint.empty());
    const int n = train.count();
    buffer xb = model<Net>::make_input(o.batch);
    labels yb(o.batch);
    for (int e = at.epoch; e < o.epochs; ++e) {
        const auto order = epoch_order(n, o.seed, e);
        const auto t0 = std::chrono::steady_clock::now();
        const auto elapsed = [&] {
            return at.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        progress_bar bar(fmt::format("epoch {}/{}", e + 1, o.epochs), o.progress ? n : 0);
        for (long start = at.samples; start < n; start += o.batch) {
            const int count = static_cast<int>(std::min<long>(o.batch, n - start));
            buffer x = count == o.batch ? xb : xb.cropped(xb.dimensions() - 1, 0, count);
            labels y = count == o.batch ? yb : yb.cropped(0, 0, count);
            gather_batch(train, std::span(order).subspan(start, count), x, y);
            auto r = m.train_step(x, y, o.opt);
            at.loss_sum += double(r.loss) * count;
            at.correct += r.correct;
            if (o.progress) bar.update(start + count, at.loss_sum / (start + count));
            if (o.on_batch) o.on_batch(e, start + count);
            if (interrupt.requested()) {
                if (o.progress) bar.finish();
                at.epoch = e;
                at.samples = start + count;
                at.seconds = elapsed();
                m.save_checkpoint(o.checkpoint, detail::fit_metadata(o, at, history));
                throw interrupted(o.checkpoint, e, at.samples, n);
            }
        }
        if (o.progress) bar.finish();
        epoch_record rec;
        rec.epoch = e + 1;
        rec.seconds = elapsed();
        rec.train_loss = at.loss_sum / n;
        rec.train_accuracy = double(at.correct) / n;
        rec.images_per_second = n / rec.seconds;
        auto t = evaluate_dataset(m, test);
        rec.test_loss = t.loss;
        rec.test_accuracy = double(t.correct) / test.count();
        history.push_back(rec);
        at = {e + 1, 0, 0.0, 0, 0.0};
        if (!o.checkpoint.empty()) m.save_checkpoint(o.checkpoint, detail::fit_metadata(o, at, history));
        if (on_epoch) on_epoch(rec);
    }
    return history;
}

}  // namespace constnet
