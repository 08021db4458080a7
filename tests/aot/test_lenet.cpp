// LeNet compiled ahead of time (examples/lenet.hpp), used as a program would:
// PyTorch parity, weights I/O, initialization and run-time errors.
#include "lenet_net.constnet.hpp"

#include <constnet/safetensors.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;
using Model = constnet::model<lenet>;
using Catch::Matchers::Contains;

namespace {
fs::path case_dir() {
    const char* dir = std::getenv("CONSTNET_LENET_CASE_DIR");
    REQUIRE(dir != nullptr);
    return dir;
}
fs::path temp_path(const std::string& name) {
    auto dir = fs::temp_directory_path() / "constnet_test_lenet";
    fs::create_directories(dir);
    return dir / name;
}
std::vector<float> all(const constnet::buffer& b) { return {b.data(), b.data() + b.number_of_elements()}; }
}  // namespace

TEST_CASE("LeNet logits equal PyTorch's on the same weights (1e-5)", "[aot][parity]") {
    // Weights, input and expected logits written by make_lenet_case.py from
    // torch's nn.Sequential LeNet (d2l 6.6). The whole batch of 40 runs with
    // the images in the vector lanes (lower_forward_batched: two vectors of
    // 16 and a partial one), its first 8 images as a batch of 8 image by
    // image (the forward's own schedule).
    Model model;
    model.load(case_dir() / "lenet.safetensors");
    auto io = constnet::safetensors::read(case_dir() / "lenet_io.safetensors");
    const auto& in = io.tensors.at("input");
    const auto& expected = io.tensors.at("expected");
    REQUIRE(in.shape == std::vector<std::int64_t>{40, 1, 28, 28});
    STATIC_REQUIRE(Model::batched_forward);
    REQUIRE((40 >= constnet::detail::batched_forward_min && 8 < constnet::detail::batched_forward_min));
    for (const int batch : {40, 8}) {
        INFO("batch " << batch);
        auto x = Model::make_input(batch);
        std::copy(in.data.begin(), in.data.begin() + x.number_of_elements(), x.data());
        auto y = model.forward(x);
        double worst = 0;
        for (std::size_t k = 0; k < y.number_of_elements(); ++k)
            worst = std::max(worst, double(std::fabs(y.data()[k] - expected.data[k])));
        INFO("worst absolute difference " << worst);
        CHECK(worst <= 1e-5);
    }
}

TEST_CASE("parameters follow PyTorch's state_dict names and shapes", "[aot][runtime]") {
    Model model;
    std::vector<std::string> names;
    for (const auto& p : model.parameter_infos()) names.push_back(p.name());
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias",
                                            "9.weight", "9.bias", "11.weight", "11.bias"});
    // Halide order is PyTorch order reversed: [6, 1, 5, 5] is (5, 5, 1, 6).
    auto& w = model.parameter("0.weight");
    CHECK(std::vector<int>{w.dim(0).extent(), w.dim(1).extent(), w.dim(2).extent(), w.dim(3).extent()} ==
          std::vector<int>{5, 5, 1, 6});
    CHECK(model.parameter("7.weight").dim(0).extent() == 400);
    CHECK(Model::parameter_count == 61706);
}

TEST_CASE("initialization is seeded and reproducible and within Xavier's bound", "[aot][runtime]") {
    Model a, b, c;
    a.init(7);
    b.init(7);
    c.init(8);
    for (int k = 0; k < Model::parameter_tensors; ++k) CHECK(all(a.parameter(k)) == all(b.parameter(k)));
    CHECK(all(a.parameter(0)) != all(c.parameter(0)));
    // Xavier-uniform: |w| <= sqrt(6 / (fan_in + fan_out)); conv1 fan_in 25, fan_out 150.
    const float bound = std::sqrt(6.0f / (25 + 150));
    float largest = 0;
    a.parameter("0.weight").for_each_value([&](float v) { largest = std::max(largest, std::fabs(v)); });
    CHECK(largest <= bound);
    CHECK(largest > 0.8f * bound);  // 150 draws: the largest comes close to the bound
    a.parameter("0.bias").for_each_value([](float v) { CHECK(v == 0.0f); });

    // Kaiming-normal for dense 400 -> 120: standard deviation sqrt(2 / 400).
    a.init(3, constnet::init_kind::kaiming_normal);
    double sum2 = 0;
    a.parameter("7.weight").for_each_value([&](float v) { sum2 += double(v) * v; });
    CHECK(std::sqrt(sum2 / (400 * 120)) == Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
}

TEST_CASE("weights round-trip through safetensors and bad files change nothing", "[aot][runtime]") {
    Model a, b;
    a.init(1);
    const auto path = temp_path("roundtrip.safetensors");
    a.save(path);
    b.load(path);
    for (int k = 0; k < Model::parameter_tensors; ++k) CHECK(all(a.parameter(k)) == all(b.parameter(k)));

    // A file for another network: names match but a shape does not.
    auto f = constnet::safetensors::read(path);
    f.tensors.at("3.weight").shape = {16, 3, 5, 10};
    constnet::safetensors::write(temp_path("wrong_shape.safetensors"), f);
    Model c;
    c.init(2);
    auto before = all(c.parameter(0));
    REQUIRE_THROWS_WITH(c.load(temp_path("wrong_shape.safetensors")),
                        Contains("wrong_shape.safetensors") && Contains("'3.weight'") &&
                            Contains("[16, 3, 5, 10]") && Contains("expected [16, 6, 5, 5]"));
    CHECK(all(c.parameter(0)) == before);  // nothing loaded

    f = constnet::safetensors::read(path);
    f.tensors.erase("9.bias");
    constnet::safetensors::write(temp_path("missing.safetensors"), f);
    REQUIRE_THROWS_WITH(c.load(temp_path("missing.safetensors")), Contains("missing tensor '9.bias'"));

    f = constnet::safetensors::read(path);
    f.tensors["12.weight"] = {{1}, {0.0f}};
    constnet::safetensors::write(temp_path("extra.safetensors"), f);
    REQUIRE_THROWS_WITH(c.load(temp_path("extra.safetensors")), Contains("unexpected tensor '12.weight'"));
}

TEST_CASE("a wrong input buffer throws with Halide's message and the next call works", "[aot][runtime]") {
    Model model;
    model.init(0);
    auto wrong = constnet::make_nchw(2, 1, 27, 28);  // H = 27 instead of 28
    REQUIRE_THROWS_WITH(model.forward(wrong), Contains("lenet_net.forward failed") &&
                                                  Contains("expected an input of N x 1 x 28 x 28") &&
                                                  Contains("got 2 x 1 x 27 x 28") && Contains("Halide: "));
    auto flat = constnet::buffer(784, 2);  // rank 2 instead of 4
    flat.fill(0.0f);
    REQUIRE_THROWS_AS(model.forward(flat), constnet::error);

    constnet::buffer empty;  // no memory: Halide would take it for a bounds query
    REQUIRE_THROWS_WITH(model.forward(empty), Contains("input buffer has no data"));

    auto out_wrong = constnet::buffer(9, 2);  // output of 9 classes instead of 10
    auto good = Model::make_input(2);
    REQUIRE_THROWS_WITH(model.forward(good, out_wrong), Contains("failed on an input of 2 x 1 x 28 x 28 (the expected shape)") &&
                                                            Contains("Halide: ") && !Contains("expected an input of"));

    // The same with a batch that runs with the images in the vector lanes,
    // and an output whose batch differs from the input's.
    auto wrong32 = constnet::make_nchw(32, 1, 27, 28);
    REQUIRE_THROWS_WITH(model.forward(wrong32), Contains("lenet_net.forward failed") &&
                                                    Contains("got 32 x 1 x 27 x 28") && Contains("Halide: "));
    auto good32 = Model::make_input(32);
    auto out_wrong32 = constnet::buffer(9, 32);
    REQUIRE_THROWS_WITH(model.forward(good32, out_wrong32), Contains("failed on an input of 32 x 1 x 28 x 28") &&
                                                                Contains("Halide: "));
    auto out_short = Model::make_output(16);
    REQUIRE_THROWS_WITH(model.forward(good32, out_short),
                        Contains("the output's batch must be the input's (expected 32 x 10, got 16 x 10)"));
    auto out_long = Model::make_output(3);
    REQUIRE_THROWS_WITH(model.forward(good, out_long), Contains("expected 2 x 10, got 3 x 10"));

    auto y = model.forward(good);  // the process goes on; a correct call succeeds
    CHECK(y.dim(0).extent() == 10);
    CHECK(y.dim(1).extent() == 2);
    CHECK(std::isfinite(y(0, 0)));
}

TEST_CASE("weights written through parameter() are what the next forward uses", "[aot][runtime]") {
    // The forward pass reads dense weights from a transposed copy the model
    // keeps; any write access must refresh it.
    Model model;
    model.init(1);
    auto x = Model::make_input(3);
    x.fill(0.5f);
    const auto before = model.forward(x);
    model.parameter("11.weight").fill(0.0f);  // the last dense layer now outputs its bias
    auto& bias = model.parameter("11.bias");
    for (int k = 0; k < 10; ++k) bias(k) = static_cast<float>(k);
    const auto after = model.forward(x);
    for (int n = 0; n < 3; ++n)
        for (int k = 0; k < 10; ++k) CHECK(after(k, n) == static_cast<float>(k));
    CHECK(before(0, 0) != after(0, 0));
    model.init(1);  // and back: init changes the weights again
    const auto again = model.forward(x);
    for (int k = 0; k < 10; ++k) CHECK(again(k, 0) == before(k, 0));
}
