// fit(): LeNet (d2l recipe, compiled with TRAINING) on a slice of
// Fashion-MNIST: learning happens, runs are deterministic, and a run resumed
// from its checkpoint ends where the uninterrupted run ends.
#include "lenet_modern_net.constnet.hpp"
#include "lenet_net.constnet.hpp"

#include <constnet/fit.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

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

TEST_CASE("the modern recipe learns: ReLU, max pooling, Adam", "[aot][fit]") {
    // Four epochs over the 2048-image slice (32 Adam steps, lr 1e-3): the loss
    // falls well below chance (ln 10 = 2.303) and both accuracies rise far
    // above chance (0.1).
    constnet::model<lenet_modern> m;
    m.init(1, constnet::init_kind::kaiming_normal);
    auto o = options(4, {});
    o.batch = 128;
    o.opt = constnet::adam(1e-3f);
    auto h = constnet::fit(m, data().train, data().test, o);
    INFO("loss " << h.front().train_loss << " -> " << h.back().train_loss << ", test acc " << h.back().test_accuracy);
    for (std::size_t e = 1; e < h.size(); ++e) CHECK(h[e].train_loss < h[e - 1].train_loss);
    CHECK(h.back().train_loss < 1.2);
    CHECK(h.back().train_accuracy > 0.55);
    CHECK(h.back().test_accuracy > 0.55);
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
