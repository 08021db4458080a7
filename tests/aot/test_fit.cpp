// fit(): LeNet (d2l recipe, compiled with TRAINING) on a slice of
// Fashion-MNIST: learning happens, runs are deterministic, and a run resumed
// from its checkpoint ends where the uninterrupted run ends.
#include "lenet_modern_net.constnet.hpp"
#include "lenet_net.constnet.hpp"

#include <constnet/fit.hpp>
#include <constnet/safetensors.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Model = constnet::model<lenet>;

namespace {
struct slices {
    constnet::dataset train, test;
    slices() {
        const char* dir = constnet::data::fashion_mnist_default_dir;
        train = constnet::head(constnet::to_dataset(constnet::data::load_fashion_mnist(dir, "train")), 2048);
        test = constnet::head(constnet::to_dataset(constnet::data::load_fashion_mnist(dir, "t10k")), 1000);
    }
};
const slices& data() {
    static const slices s;
    return s;
}
std::vector<float> all(const constnet::buffer& b) { return {b.data(), b.data() + b.number_of_elements()}; }
// Image k of a batch, as a batch of one.
constnet::buffer detail_crop(const constnet::buffer& x, int k) {
    constnet::buffer one = x.cropped(x.dimensions() - 1, k, 1);
    one.translate(x.dimensions() - 1, -k);
    return one;
}
fs::path temp(const std::string& name) {
    auto dir = fs::temp_directory_path() / "constnet_test_fit";
    fs::create_directories(dir);
    return dir / name;
}
constnet::fit_options options(int epochs, const fs::path& checkpoint) {
    constnet::fit_options o;
    o.epochs = epochs;
    o.batch = 256;
    o.opt = constnet::sgd(0.9f);
    o.seed = 5;
    o.checkpoint = checkpoint;
    o.progress = false;
    return o;
}
// The modern recipe (ReLU, max pooling, Adam lr 1e-3, batch 128).
constnet::fit_options modern_options(int epochs) {
    auto o = options(epochs, {});
    o.batch = 128;
    o.opt = constnet::adam(1e-3f);
    return o;
}
}  // namespace

TEST_CASE("resuming from a checkpoint gives the uninterrupted run's result", "[aot][fit]") {
    fs::remove(temp("a.ckpt"));
    fs::remove(temp("b.ckpt"));
    Model a;
    a.init(5);
    auto full = constnet::fit(a, data().train, data().test, options(3, temp("a.ckpt")));
    REQUIRE(full.size() == 3);

    Model b;
    b.init(5);
    constnet::fit(b, data().train, data().test, options(1, temp("b.ckpt")));
    Model c;  // a new process would start like this
    auto rest = constnet::fit(c, data().train, data().test, [&] {
        auto o = options(3, temp("b.ckpt"));
        o.resume = true;
        return o;
    }());
    REQUIRE(rest.size() == 3);  // the history includes the epoch before the interruption
    for (int k = 0; k < Model::parameter_tensors; ++k) CHECK(all(a.parameter(k)) == all(c.parameter(k)));
    CHECK(c.optimizer_steps() == a.optimizer_steps());
    for (int e = 0; e < 3; ++e) {
        CHECK(rest[e].train_loss == full[e].train_loss);
        CHECK(rest[e].test_accuracy == full[e].test_accuracy);
    }
    // With another seed or batch the checkpoint does not fit the run.
    auto o = options(4, temp("b.ckpt"));
    o.resume = true;
    o.seed = 6;
    Model d;
    REQUIRE_THROWS_WITH(constnet::fit(d, data().train, data().test, o), Contains("seed 5") && Contains("seed 6"));
}

TEST_CASE("SIGINT saves a checkpoint at a batch boundary and resume continues from that batch", "[aot][fit]") {
    fs::remove(temp("full.ckpt"));
    fs::remove(temp("cut.ckpt"));
    Model a;
    a.init(5);
    const auto full = constnet::fit(a, data().train, data().test, options(2, temp("full.ckpt")));

    struct sigaction before {};
    sigaction(SIGINT, nullptr, &before);
    Model b;
    b.init(5);
    auto o = options(2, temp("cut.ckpt"));
    long steps_seen = 0;
    o.on_batch = [&](int epoch, long samples) {
        ++steps_seen;
        if (epoch == 1 && samples == 768) std::raise(SIGINT);  // as Ctrl-C in the second epoch's fourth batch
    };
    try {
        constnet::fit(b, data().train, data().test, o);
        FAIL("fit returned although SIGINT arrived");
    } catch (const constnet::interrupted& e) {
        CHECK(e.epoch == 1);
        CHECK(e.samples == 768);
        CHECK(e.checkpoint == temp("cut.ckpt"));
        CHECK_THAT(e.what(), Contains("epoch 2 after 768 of 2048 samples") && Contains("cut.ckpt"));
    }
    CHECK(steps_seen == 8 + 3);  // stopped right after the step during which the signal came
    CHECK(b.optimizer_steps() == 8 + 3);
    struct sigaction after {};
    sigaction(SIGINT, nullptr, &after);
    CHECK(after.sa_handler == before.sa_handler);  // fit put the previous handler back

    Model c;  // a new process resuming
    o.on_batch = nullptr;
    o.resume = true;
    const auto rest = constnet::fit(c, data().train, data().test, o);
    REQUIRE(rest.size() == 2);
    for (int k = 0; k < Model::parameter_tensors; ++k) CHECK(all(a.parameter(k)) == all(c.parameter(k)));
    CHECK(c.optimizer_steps() == a.optimizer_steps());
    for (int e = 0; e < 2; ++e) {  // the running sums of the cut epoch were carried over exactly
        CHECK(rest[e].train_loss == full[e].train_loss);
        CHECK(rest[e].train_accuracy == full[e].train_accuracy);
        CHECK(rest[e].test_accuracy == full[e].test_accuracy);
    }
}

TEST_CASE("a checkpoint in a missing directory is refused before any training", "[aot][fit]") {
    Model m;
    m.init(5);
    const auto before = all(m.parameter(0));
    const auto path = temp("no_such_dir") / "run.ckpt";
    fs::remove_all(temp("no_such_dir"));
    REQUIRE_THROWS_WITH(constnet::fit(m, data().train, data().test, options(1, path)),
                        Contains(path.string()) && Contains("does not exist"));
    CHECK(all(m.parameter(0)) == before);  // no step was taken
    CHECK(m.optimizer_steps() == 0);
}

TEST_CASE("a checkpoint whose training metadata is damaged is refused", "[aot][fit]") {
    fs::remove(temp("meta.ckpt"));
    Model a;
    a.init(5);
    constnet::fit(a, data().train, data().test, options(1, temp("meta.ckpt")));
    const auto good = constnet::safetensors::read(temp("meta.ckpt"));
    struct bad {
        const char *key, *value, *message;
    };
    const bad cases[] = {
        {"fit.epoch", "1x", "metadata 'fit.epoch' is \"1x\", expected a non-negative integer"},
        {"fit.epoch", "-1", "metadata 'fit.epoch' is \"-1\""},
        {"fit.epoch", "2", "2 epochs done but 1 in the history"},
        {"fit.samples", "", "metadata 'fit.samples' is \"\""},
        {"fit.loss_sum", "nan", "metadata 'fit.loss_sum' is \"nan\", expected a non-negative number"},
        {"fit.correct", "99999", "99999 correct of 0 samples"},
        {"fit.history", "{\"epoch\": 1}", "metadata 'fit.history' is not a training history"},
        {"fit.history", "[{\"epoch\": \"one\"}]", "metadata 'fit.history' is not a training history"},
        {"fit.history", "[]", "1 epochs done but 0 in the history"},
    };
    for (const auto& c : cases) {
        auto f = good;
        f.metadata[c.key] = c.value;
        constnet::safetensors::write(temp("meta_bad.ckpt"), f);
        Model m;
        m.init(7);
        const auto before = all(m.parameter(0));
        auto o = options(2, temp("meta_bad.ckpt"));
        o.resume = true;
        INFO(c.key << " = " << c.value);
        REQUIRE_THROWS_WITH(constnet::fit(m, data().train, data().test, o),
                            Contains(temp("meta_bad.ckpt").string()) && Contains(c.message));
        CHECK(all(m.parameter(0)) == before);  // nothing was loaded
        CHECK(m.optimizer_steps() == 0);
    }
}

TEST_CASE("the modern recipe learns: ReLU, max pooling, Adam", "[aot][fit]") {
    // Four epochs over the 2048-image slice (32 Adam steps, lr 1e-3): the loss
    // falls well below chance (ln 10 = 2.303) and both accuracies rise far
    // above chance (0.1).
    constnet::model<lenet_modern> m;
    m.init(1, constnet::init_kind::kaiming_normal);
    auto h = constnet::fit(m, data().train, data().test, modern_options(4));
    INFO("loss " << h.front().train_loss << " -> " << h.back().train_loss << ", test acc " << h.back().test_accuracy);
    for (std::size_t e = 1; e < h.size(); ++e) CHECK(h[e].train_loss < h[e - 1].train_loss);
    CHECK(h.back().train_loss < 1.2);
    CHECK(h.back().train_accuracy > 0.55);
    CHECK(h.back().test_accuracy > 0.55);
}

TEST_CASE("a batch split into parts trains as the whole batch in one call", "[aot][fit]") {
    // model::train_step runs a batch in parts (their gradients summed, one
    // update): the reference is the same step as one call, which the
    // gradient tests check against PyTorch. 200 images in parts of 48: four
    // full parts and one of 8 (not a multiple of the 16 images in a vector).
    const int batch = 200;
    constnet::buffer x = Model::make_input(batch);
    constnet::labels y(batch);
    std::vector<int> first(batch);
    std::iota(first.begin(), first.end(), 0);
    constnet::gather_batch(data().train, first, x, y);
    // SGD with momentum and weight decay: parameters and momentum are linear
    // in the gradients, so rounding stays at rounding. Adam divides by the
    // root of the second moment, so an element whose gradient is near 0
    // moves by about lr whatever its rounding: its moments are compared.
    for (const bool adam : {false, true}) {
        const auto opt = adam ? constnet::adam(1e-2f) : constnet::sgd(0.9f, 0.9f, 1e-3f);
        Model whole, parts;
        whole.init(3);
        parts.init(3);
        whole.set_train_part(0);
        parts.set_train_part(48);
        for (int step = 0; step < 3; ++step) {
            const auto a = whole.train_step(x, y, opt);
            const auto b = parts.train_step(x, y, opt);
            CHECK(b.loss == Approx(a.loss).epsilon(1e-5));
            CHECK(b.correct == a.correct);
        }
        auto same = [](const std::vector<float>& want, const std::vector<float>& got, float tolerance) {
            float scale = 0, worst = 0;
            for (float v : want) scale = std::max(scale, std::abs(v));
            for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
            INFO("largest difference " << worst << ", largest magnitude " << scale);
            CHECK(worst <= tolerance * scale);
        };
        for (int k = 0; k < Model::parameter_tensors; ++k) {
            INFO((adam ? "Adam" : "SGD") << ", parameter " << k);
            if (!adam) same(all(whole.parameter(k)), all(parts.parameter(k)), 1e-5f);
            same(all(whole.optimizer_state(k, 0)), all(parts.optimizer_state(k, 0)), 1e-4f);
            if (adam) same(all(whole.optimizer_state(k, 1)), all(parts.optimizer_state(k, 1)), 1e-4f);
        }
    }
}

TEST_CASE("an optimizer's step leaves the moments it does not use as they were", "[aot][fit]") {
    // The train step skips what an optimizer does not read (SGD both
    // moments, momentum the second) and, in the parts before the last, the
    // parameters and moments. The reference: torch.optim's rules, here in
    // double from the state before each step, with the step's gradient
    // recovered from plain SGD's change of the parameters (lr 1: g = w - w').
    const int batch = 40;  // parts of 16: two full parts and one of 8
    constnet::buffer x = Model::make_input(batch);
    constnet::labels y(batch);
    std::vector<int> first(batch);
    std::iota(first.begin(), first.end(), 0);
    constnet::gather_batch(data().train, first, x, y);
    const int k = 2;  // conv2's weight
    // The state after two Adam steps, then `sgd_steps` SGD steps (lr 0.1):
    // the same every time (training is deterministic).
    auto trained = [&](int sgd_steps) {
        Model m;
        m.init(5);
        m.set_train_part(16);
        for (int step = 0; step < 2; ++step) m.train_step(x, y, constnet::adam(1e-3f));
        for (int step = 0; step < sgd_steps; ++step) m.train_step(x, y, constnet::sgd(0.1f));
        return m;
    };
    // The gradient at that state: plain SGD with lr 1 changes w by it.
    auto gradient = [&](int sgd_steps) {
        Model probe = trained(sgd_steps);
        const auto w = all(probe.parameter(k));
        probe.train_step(x, y, constnet::sgd(1.0f));
        const auto w1 = all(probe.parameter(k));
        std::vector<double> g(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) g[i] = double(w[i]) - w1[i];
        return g;
    };
    Model m = trained(0);
    const auto m1 = all(m.optimizer_state(k, 0)), m2 = all(m.optimizer_state(k, 1)), w0 = all(m.parameter(k));
    REQUIRE(std::any_of(m1.begin(), m1.end(), [](float v) { return v != 0.0f; }));
    // Plain SGD: w - 0.1 g, both moments unchanged bit for bit.
    m.train_step(x, y, constnet::sgd(0.1f));
    CHECK(all(m.optimizer_state(k, 0)) == m1);
    CHECK(all(m.optimizer_state(k, 1)) == m2);
    const auto g0 = gradient(0);
    const auto w_sgd = all(m.parameter(k));
    for (std::size_t i = 0; i < w0.size(); ++i) CHECK(w_sgd[i] == Approx(w0[i] - 0.1 * g0[i]).margin(1e-6));
    // Momentum: the first moment becomes 0.9 m + g, the second unchanged.
    const auto g1 = gradient(1);
    m.train_step(x, y, constnet::sgd(0.1f, 0.9f));
    CHECK(all(m.optimizer_state(k, 1)) == m2);
    const auto m1_new = all(m.optimizer_state(k, 0));
    float worst = 0, scale = 0;
    for (std::size_t i = 0; i < m1.size(); ++i) {
        worst = std::max(worst, float(std::abs(m1_new[i] - (0.9 * m1[i] + g1[i]))));
        scale = std::max(scale, std::abs(m1_new[i]));
    }
    INFO("largest difference " << worst << ", largest magnitude " << scale);
    CHECK(worst <= 1e-4f * scale);
}

TEST_CASE("a batch's forward with the images in the vector lanes equals the forward image by image", "[aot][fit]") {
    // model::forward runs a batch of 16 or more with lower_forward_batched's
    // schedules, in parts of 64 images per thread; the reference is the same
    // images one at a time (the forward's own schedule, which the parity
    // tests check against PyTorch). Both LeNets (sigmoid and average pooling;
    // ReLU and max pooling); batches of one vector, of a partial vector and
    // of parts whose last holds 2 images.
    auto check = [](auto& model, const constnet::dataset& d) {
        using M = std::decay_t<decltype(model)>;
        for (const int batch : {16, 37, 130}) {
            INFO("batch " << batch);
            constnet::buffer x = M::make_input(batch);
            constnet::labels y(batch);
            std::vector<int> which(batch);
            std::iota(which.begin(), which.end(), 100);
            constnet::gather_batch(d, which, x, y);
            const auto together = model.forward(x);
            const long per_image = together.number_of_elements() / batch;
            float worst = 0, scale = 0;
            for (int k = 0; k < batch; ++k) {
                const auto alone = model.forward(detail_crop(x, k));
                for (long j = 0; j < per_image; ++j) {
                    worst = std::max(worst, std::abs(together.data()[k * per_image + j] - alone.data()[j]));
                    scale = std::max(scale, std::abs(alone.data()[j]));
                }
            }
            INFO("largest difference " << worst << ", largest magnitude " << scale);
            CHECK(scale > 0.1f);
            CHECK(worst <= 1e-5f * scale);
        }
    };
    STATIC_REQUIRE(Model::batched_forward);
    STATIC_REQUIRE(constnet::model<lenet_modern>::batched_forward);
    Model d2l;
    d2l.init(7);
    check(d2l, data().test);
    constnet::model<lenet_modern> modern;
    modern.init(7);
    check(modern, data().test);
}

TEST_CASE("eval's loss and correct count are the forward's logits' cross-entropy and argmax", "[aot][fit]") {
    // The reference: cross-entropy and argmax computed here in double from
    // the generated forward's logits (the forward is checked against PyTorch
    // by the parity tests). Batches below and above eval's block of 16
    // images (the dense layers run per sample below it, in blocks above;
    // 37 and 203 end in a partial block), on weights trained well above
    // chance so the predictions are not all one class.
    constnet::model<lenet_modern> m;
    m.init(1, constnet::init_kind::kaiming_normal);
    const auto h = constnet::fit(m, data().train, constnet::head(data().test, 16), modern_options(3));
    REQUIRE(h.back().train_accuracy > 0.4);
    for (const int batch : {1, 5, 16, 37, 203}) {
        INFO("batch " << batch);
        constnet::buffer x = m.make_input(batch);
        constnet::labels y(batch);
        std::vector<int> first(batch);
        std::iota(first.begin(), first.end(), 100);
        constnet::gather_batch(data().test, first, x, y);
        const auto logits = m.forward(x);
        double loss = 0;
        int correct = 0;
        for (int n = 0; n < batch; ++n) {
            double top = logits(0, n), sum = 0;
            int best = 0;
            for (int k = 1; k < 10; ++k)
                if (logits(k, n) > top) top = logits(k, n), best = k;
            for (int k = 0; k < 10; ++k) sum += std::exp(double(logits(k, n)) - top);
            loss += top + std::log(sum) - logits(y(n), n);
            correct += best == y(n);
        }
        const auto r = m.evaluate(x, y);
        CHECK(r.loss == Approx(loss / batch).epsilon(1e-5));
        CHECK(r.correct == correct);
    }
}

TEST_CASE("the epoch order is a seeded permutation", "[aot][fit]") {
    auto a = constnet::epoch_order(1000, 1, 0), b = constnet::epoch_order(1000, 1, 0), c = constnet::epoch_order(1000, 1, 1);
    CHECK(a == b);
    CHECK(a != c);
    std::sort(c.begin(), c.end());
    for (int k = 0; k < 1000; ++k) CHECK(c[k] == k);
}

TEST_CASE("the training plot is an SVG with the three curves", "[aot][fit]") {
    std::vector<constnet::epoch_record> h{{1, 2.3, 0.1, 2.3, 0.1, 1, 1}, {2, 1.2, 0.5, 1.1, 0.6, 1, 1}};
    constnet::write_training_plot(temp("plot.svg"), h, "test");
    std::ifstream in(temp("plot.svg"));
    std::string svg((std::istreambuf_iterator<char>(in)), {});
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK_THAT(svg, Contains("train loss") && Contains("train acc") && Contains("test acc"));
    CHECK(std::count(svg.begin(), svg.end(), '\n') > 10);
}
