// Shape rules, checked at compile time on the d2l chapter's own examples:
// out = floor((n + p_total - k) / s) + 1 per axis (6.3), channels (6.4),
// pooling (6.5), flatten and dense. Each fact is a STATIC_REQUIRE, so a wrong
// rule stops the build of this file.
#include <catch2/catch.hpp>
#include <constnet/dsl.hpp>

namespace cn = constnet::dsl;
using constnet::op;
using constnet::output_size;

TEST_CASE("output-size rule, d2l 6.3", "[dsl][shapes]") {
    // the formula itself
    STATIC_REQUIRE(output_size(8, 3, 2, 1) == 8);
    STATIC_REQUIRE(output_size(8, 3, 2, 2) == 4);  // floor(7 / 2) + 1
    STATIC_REQUIRE(output_size(8, 5, 0, 1) == 4);
    STATIC_REQUIRE(output_size(4, 5, 0, 1) == 0);  // what the [output size] rule rejects

    // an 8x8 input, the chapter's four cases
    constexpr auto x = cn::input<1, 8, 8>;
    STATIC_REQUIRE((x | cn::conv2d<1, 3>(cn::padding<1>)).output_shape() == cn::shape<1, 8, 8>);
    STATIC_REQUIRE((x | cn::conv2d<1, 5, 3>(cn::padding<2, 1>)).output_shape() == cn::shape<1, 8, 8>);
    STATIC_REQUIRE((x | cn::conv2d<1, 3>(cn::padding<1>, cn::stride<2>)).output_shape() == cn::shape<1, 4, 4>);
    STATIC_REQUIRE((x | cn::conv2d<1, 3, 5>(cn::padding<0, 1>, cn::stride<3, 4>)).output_shape() ==
                   cn::shape<1, 2, 2>);
    // d2l 6.2: a 1x2 edge-detection kernel over 6x8 gives 6x7
    STATIC_REQUIRE((cn::input<1, 6, 8> | cn::conv2d<1, 1, 2>).output_shape() == cn::shape<1, 6, 7>);
}

TEST_CASE("padding: <p>, <p_h, p_w>, <top, bottom, left, right>", "[dsl][shapes]") {
    constexpr auto net = cn::input<1, 8, 8> | cn::conv2d<1, 3>(cn::padding<1, 0, 2, 0>);
    constexpr auto d = net.node(1);
    STATIC_REQUIRE(d.pad_top == 1);
    STATIC_REQUIRE(d.pad_bottom == 0);
    STATIC_REQUIRE(d.pad_left == 2);
    STATIC_REQUIRE(d.pad_right == 0);
    STATIC_REQUIRE(d.out == cn::shape<1, 7, 8>);  // h: 8 + 1 - 3 + 1, w: 8 + 2 - 3 + 1

    constexpr auto hw = (cn::input<1, 8, 8> | cn::conv2d<1, 5, 3>(cn::padding<2, 1>)).node(1);
    STATIC_REQUIRE((hw.pad_top == 2 && hw.pad_bottom == 2 && hw.pad_left == 1 && hw.pad_right == 1));
}

TEST_CASE("'same' padding keeps H x W with (k - 1) / 2 per side", "[dsl][shapes]") {
    constexpr auto d = (cn::input<1, 28, 28> | cn::conv2d<4, 5>(cn::same)).node(1);
    STATIC_REQUIRE(d.out == cn::shape<4, 28, 28>);
    STATIC_REQUIRE((d.pad_top == 2 && d.pad_bottom == 2 && d.pad_left == 2 && d.pad_right == 2));
    constexpr auto r = (cn::input<1, 9, 9> | cn::conv2d<4, 3, 7>(cn::same)).node(1);
    STATIC_REQUIRE(r.out == cn::shape<4, 9, 9>);
    STATIC_REQUIRE((r.pad_top == 1 && r.pad_left == 3));
}

TEST_CASE("channels, d2l 6.4", "[dsl][shapes]") {
    // two input channels, 2x2 kernel over 3x3: one 2x2 output channel
    STATIC_REQUIRE((cn::input<2, 3, 3> | cn::conv2d<1, 2>).output_shape() == cn::shape<1, 2, 2>);
    // three output channels
    constexpr auto multi = cn::input<2, 3, 3> | cn::conv2d<3, 2>;
    STATIC_REQUIRE(multi.output_shape() == cn::shape<3, 2, 2>);
    STATIC_REQUIRE(multi.node(1).weight_shape() == std::array{3, 2, 2, 2});
    // 1x1 convolution: mixes channels, keeps H x W; 3 -> 2 channels: 2*3 weights + 2 biases
    constexpr auto one = cn::input<3, 3, 3> | cn::conv2d<2, 1>;
    STATIC_REQUIRE(one.output_shape() == cn::shape<2, 3, 3>);
    STATIC_REQUIRE(one.parameter_count() == 2 * 3 + 2);
    STATIC_REQUIRE((cn::input<3, 3, 3> | cn::conv2d<2, 1>(cn::no_bias)).parameter_count() == 2 * 3);
    // in_channels<> that agrees with the input is accepted and changes nothing else
    constexpr auto checked = cn::input<6, 14, 14> | cn::conv2d<16, 5>(cn::in_channels<6>);
    STATIC_REQUIRE(checked.output_shape() == cn::shape<16, 10, 10>);
    STATIC_REQUIRE(checked.node(1).expect_in == 6);
    STATIC_REQUIRE(checked.parameter_count() == (cn::input<6, 14, 14> | cn::conv2d<16, 5>).parameter_count());
}

TEST_CASE("pooling, d2l 6.5", "[dsl][shapes][pool]") {
    // the stride defaults to the window (PyTorch)
    constexpr auto p2 = (cn::input<1, 28, 28> | cn::max_pool<2>).node(1);
    STATIC_REQUIRE((p2.sh == 2 && p2.sw == 2));
    STATIC_REQUIRE(p2.out == cn::shape<1, 14, 14>);
    // a 4x4 input: 3x3 window -> 1x1; padding 1, stride 2 -> 2x2; (2,3) window,
    // padding (0,1), stride (2,3) -> 2x2
    constexpr auto x = cn::input<1, 4, 4>;
    STATIC_REQUIRE((x | cn::max_pool<3>).output_shape() == cn::shape<1, 1, 1>);
    STATIC_REQUIRE((x | cn::max_pool<3>(cn::padding<1>, cn::stride<2>)).output_shape() == cn::shape<1, 2, 2>);
    STATIC_REQUIRE((x | cn::max_pool<2, 3>(cn::padding<0, 1>, cn::stride<2, 3>)).output_shape() ==
                   cn::shape<1, 2, 2>);
    // pooling keeps the channels (the chapter stacks X and X + 1)
    STATIC_REQUIRE((cn::input<2, 4, 4> | cn::max_pool<3>(cn::padding<1>, cn::stride<2>)).output_shape() ==
                   cn::shape<2, 2, 2>);
    // 3x3 input, 2x2 window, stride 1 (d2l's pool2d example)
    STATIC_REQUIRE((cn::input<1, 3, 3> | cn::avg_pool<2>(cn::stride<1>)).output_shape() == cn::shape<1, 2, 2>);
    // avg_pool counts padding by default, exclude_padding changes only that
    constexpr auto avg = (cn::input<1, 4, 4> | cn::avg_pool<2>(cn::padding<1>)).node(1);
    STATIC_REQUIRE(avg.count_include_pad);
    STATIC_REQUIRE(avg.out == cn::shape<1, 3, 3>);
    constexpr auto excl = (cn::input<1, 4, 4> | cn::avg_pool<2>(cn::padding<1>, cn::exclude_padding)).node(1);
    STATIC_REQUIRE(!excl.count_include_pad);
    STATIC_REQUIRE(excl.out == avg.out);
    STATIC_REQUIRE(avg.parameter_count() == 0);
}

TEST_CASE("flatten and dense", "[dsl][shapes]") {
    STATIC_REQUIRE((cn::input<16, 5, 5> | cn::flatten).output_shape() == cn::shape<400>);
    STATIC_REQUIRE((cn::input<400> | cn::flatten).output_shape() == cn::shape<400>);  // flat stays flat
    constexpr auto mlp = cn::input<1, 28, 28> | cn::flatten | cn::dense<256> | cn::relu | cn::dense<10>(cn::in_features<256>);
    STATIC_REQUIRE(mlp.node(2).in == cn::shape<784>);
    STATIC_REQUIRE(mlp.node(2).out == cn::shape<256>);
    STATIC_REQUIRE(mlp.node(2).weight_shape() == std::array{256, 784, 0, 0});
    STATIC_REQUIRE(mlp.output_shape() == cn::shape<10>);
    STATIC_REQUIRE(mlp.parameter_count() == (784 * 256 + 256) + (256 * 10 + 10));
    STATIC_REQUIRE((cn::input<784> | cn::dense<10>(cn::no_bias)).parameter_count() == 7840);
    STATIC_REQUIRE((cn::input<10> | cn::softmax).output_shape() == cn::shape<10>);
    // activations keep any shape
    STATIC_REQUIRE((cn::input<3, 5, 7> | cn::relu | cn::tanh).output_shape() == cn::shape<3, 5, 7>);
}

TEST_CASE("graph edges: each node is fed by the one before", "[dsl][graph]") {
    constexpr auto net = cn::input<1, 8, 8> | cn::conv2d<2, 3> | cn::relu | cn::max_pool<2> | cn::flatten;
    STATIC_REQUIRE(net.size == 5);
    STATIC_REQUIRE(net.node(0).inputs == std::array{-1, -1});
    STATIC_REQUIRE(net.node(1).inputs == std::array{0, -1});
    STATIC_REQUIRE(net.node(2).inputs == std::array{1, -1});
    STATIC_REQUIRE(net.node(3).inputs == std::array{2, -1});
    STATIC_REQUIRE(net.node(4).inputs == std::array{3, -1});
    STATIC_REQUIRE(net.node(4).in == net.node(3).out);
}

TEST_CASE("summary of a small network", "[dsl][summary]") {
    constexpr auto net = cn::input<1, 8, 8> | cn::conv2d<2, 3>(cn::padding<1, 0, 2, 0>, cn::stride<2, 1>, cn::no_bias)
                       | cn::max_pool<2> | cn::flatten;
    const std::string s = cn::summary(net);
    CAPTURE(s);
    using Catch::Matchers::Contains;
    REQUIRE_THAT(s, Contains("0: conv2d 3x3 s2,1 p1,0,2,0 no-bias"));
    REQUIRE_THAT(s, Contains("2 x 4 x 8"));  // h: (8 + 1 - 3) / 2 + 1, w: 8 + 2 - 3 + 1
    REQUIRE_THAT(s, Contains("1: max_pool 2x2 s2"));
    REQUIRE_THAT(s, Contains("Total params: 18"));  // 2 * 1 * 3 * 3, no bias
    REQUIRE_THAT(s, Contains("Input: N x 1 x 8 x 8   Output: N x 16"));
}
