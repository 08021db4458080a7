// LeNet-5 as the d2l chapter builds it (examples/lenet.hpp, the network users
// see): layer shapes, parameter and FLOP counts, graph edges, summary text.
// Expected values: the chapter's shape printout (6x28x28, 6x14x14, 16x10x10,
// 16x5x5, then 120, 84, 10 features) and PyTorch's parameter count (61,706).
#include <catch2/catch.hpp>
#include <lenet.hpp>
#include <string>

using constnet::op;

namespace {
// Node i of the graph; node 0 is the input, node i is PyTorch's module i - 1.
constexpr const constnet::layer_desc& node(int i) { return lenet.node(static_cast<std::size_t>(i)); }
}  // namespace

TEST_CASE("LeNet: every layer has the chapter's output shape", "[dsl][lenet]") {
    STATIC_REQUIRE(lenet.size == 13);
    STATIC_REQUIRE(lenet.valid);
    STATIC_REQUIRE(lenet.input_shape() == cn::shape<1, 28, 28>);
    STATIC_REQUIRE(node(1).kind == op::conv2d);
    STATIC_REQUIRE(node(1).out == cn::shape<6, 28, 28>);    // conv 5x5 pad 2
    STATIC_REQUIRE(node(2).out == cn::shape<6, 28, 28>);    // sigmoid
    STATIC_REQUIRE(node(3).out == cn::shape<6, 14, 14>);    // avg_pool 2 s2
    STATIC_REQUIRE(node(4).out == cn::shape<16, 10, 10>);   // conv 5x5
    STATIC_REQUIRE(node(6).out == cn::shape<16, 5, 5>);     // avg_pool 2 s2
    STATIC_REQUIRE(node(7).out == cn::shape<400>);          // flatten
    STATIC_REQUIRE(node(8).out == cn::shape<120>);
    STATIC_REQUIRE(node(10).out == cn::shape<84>);
    STATIC_REQUIRE(node(12).out == cn::shape<10>);
    STATIC_REQUIRE(lenet.output_shape() == cn::shape<10>);
}

TEST_CASE("LeNet: parameter counts", "[dsl][lenet]") {
    // weight out*in*kh*kw (conv) or out*in (dense), plus out biases
    STATIC_REQUIRE(node(1).parameter_count() == 6 * 1 * 5 * 5 + 6);   // 156
    STATIC_REQUIRE(node(4).parameter_count() == 16 * 6 * 5 * 5 + 16);  // 2416
    STATIC_REQUIRE(node(8).parameter_count() == 400 * 120 + 120);      // 48120
    STATIC_REQUIRE(node(10).parameter_count() == 120 * 84 + 84);       // 10164
    STATIC_REQUIRE(node(12).parameter_count() == 84 * 10 + 10);        // 850
    STATIC_REQUIRE(node(1).parameter_count() == 156);
    STATIC_REQUIRE(node(4).parameter_count() == 2416);
    STATIC_REQUIRE(node(8).parameter_count() == 48120);
    STATIC_REQUIRE(node(10).parameter_count() == 10164);
    STATIC_REQUIRE(node(12).parameter_count() == 850);
    static_assert(lenet.parameter_count() == 61'706);
    STATIC_REQUIRE(lenet.parameter_tensor_count() == 10);  // 5 weights + 5 biases
    // PyTorch layouts: conv weight [out, in, kh, kw], dense weight [out, in]
    STATIC_REQUIRE(node(4).weight_shape() == std::array{16, 6, 5, 5});
    STATIC_REQUIRE(node(8).weight_shape() == std::array{120, 400, 0, 0});
    STATIC_REQUIRE(node(3).parameter_count() == 0);  // pooling, activations: none
    STATIC_REQUIRE(node(2).parameter_count() == 0);
}

TEST_CASE("LeNet: FLOPs per sample", "[dsl][lenet]") {
    // conv: 2 * (out C * H * W) * (in C * kh * kw), 2 per multiply-add (the
    // usual 2*K*C*R*S*P*Q); dense: 2 * in * out. Conv + dense come to
    // 833,040, the "about 0.83 MFLOP per image" of ANCHORS.md.
    constexpr long conv1 = 2L * 6 * 28 * 28 * 1 * 25;  // 235,200
    constexpr long conv2 = 2L * 16 * 10 * 10 * 6 * 25;  // 480,000
    constexpr long dense1 = 2L * 400 * 120, dense2 = 2L * 120 * 84, dense3 = 2L * 84 * 10;
    STATIC_REQUIRE(node(1).flops() == conv1);
    STATIC_REQUIRE(node(4).flops() == conv2);
    STATIC_REQUIRE(node(8).flops() == dense1);
    STATIC_REQUIRE(node(10).flops() == dense2);
    STATIC_REQUIRE(node(12).flops() == dense3);
    STATIC_REQUIRE(conv1 + conv2 + dense1 + dense2 + dense3 == 833'040);
    // pooling: one per window element; sigmoid: one per element
    constexpr long pools = 6L * 14 * 14 * 4 + 16L * 5 * 5 * 4;
    constexpr long sigmoids = 6L * 28 * 28 + 16L * 10 * 10 + 120 + 84;
    STATIC_REQUIRE(lenet.flops() == 833'040 + pools + sigmoids);
}

TEST_CASE("LeNet: graph edges run from each node to the next", "[dsl][lenet][graph]") {
    STATIC_REQUIRE(node(0).inputs == std::array{-1, -1});
    constexpr bool chain = [] {
        for (int i = 1; i < static_cast<int>(lenet.size); ++i)
            if (node(i).inputs != std::array{i - 1, -1} || node(i).in != node(i - 1).out) return false;
        return true;
    }();
    STATIC_REQUIRE(chain);
    // describe() hands codegen the same nodes
    STATIC_REQUIRE(lenet.describe().size() == lenet.size);
    STATIC_REQUIRE(lenet.describe()[4] == node(4));
    int visited = 0;
    lenet.for_each_node([&](auto n) { visited += decltype(n)::desc == node(visited); });
    REQUIRE(visited == 13);
}

namespace {
// The summary line that starts with `start` ("" if none).
std::string row(const std::string& text, const std::string& start) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        if (text.compare(pos, start.size(), start) == 0) return text.substr(pos, end - pos);
        pos = end + 1;
    }
    return "";
}
}  // namespace

TEST_CASE("LeNet: summary lists shapes and parameter counts", "[dsl][lenet][summary]") {
    const std::string s = cn::summary(lenet);
    CAPTURE(s);
    using Catch::Matchers::Contains;
    using Catch::Matchers::EndsWith;
    // One row per module, numbered like PyTorch's nn.Sequential.
    REQUIRE_THAT(row(s, "input"), Contains("1 x 28 x 28"));
    REQUIRE_THAT(row(s, "0: conv2d 5x5 p2"), Contains("6 x 28 x 28") && EndsWith(" 156"));
    REQUIRE_THAT(row(s, "1: sigmoid"), Contains("6 x 28 x 28") && EndsWith(" 0"));
    REQUIRE_THAT(row(s, "2: avg_pool 2x2 s2"), Contains("6 x 14 x 14"));
    REQUIRE_THAT(row(s, "3: conv2d 5x5"), Contains("16 x 10 x 10") && EndsWith(" 2,416"));
    REQUIRE_THAT(row(s, "5: avg_pool 2x2 s2"), Contains("16 x 5 x 5"));
    REQUIRE_THAT(row(s, "6: flatten"), Contains("400"));
    REQUIRE_THAT(row(s, "7: dense 120"), Contains("120") && EndsWith(" 48,120"));
    REQUIRE_THAT(row(s, "9: dense 84"), Contains("84") && EndsWith(" 10,164"));
    REQUIRE_THAT(row(s, "11: dense 10"), Contains("10") && EndsWith(" 850"));
    REQUIRE(row(s, "12:").empty());
    REQUIRE_THAT(s, Contains("Total params: 61,706"));
    REQUIRE_THAT(s, Contains("FLOPs per sample: 845,852"));  // 833,040 conv+dense, 12,812 pooling+sigmoid
    REQUIRE_THAT(s, Contains("Input: N x 1 x 28 x 28   Output: N x 10"));
}
