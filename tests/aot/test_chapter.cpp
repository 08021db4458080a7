// The d2l chapter's values from the ahead-of-time compiled chapter networks
// (examples/chapter_networks.hpp), linked like a user program: no libHalide.
// Expected values are the ones the chapter prints (d2l ch. 6).
#include "d2l_avg_pool_2.constnet.hpp"
#include "d2l_conv1x1.constnet.hpp"
#include "d2l_convolution.constnet.hpp"
#include "d2l_corr2d.constnet.hpp"
#include "d2l_edge.constnet.hpp"
#include "d2l_edge_transposed.constnet.hpp"
#include "d2l_max_pool_2.constnet.hpp"
#include "d2l_max_pool_2x3.constnet.hpp"
#include "d2l_max_pool_3.constnet.hpp"
#include "d2l_max_pool_3_p1_s2.constnet.hpp"
#include "d2l_max_pool_two_channels.constnet.hpp"
#include "d2l_multi_in.constnet.hpp"
#include "d2l_multi_in_out.constnet.hpp"
#include "d2l_pad_k3_p1.constnet.hpp"
#include "d2l_pad_k5x3_p2x1.constnet.hpp"
#include "d2l_stride_k3_p1_s2.constnet.hpp"
#include "d2l_stride_k3x5_p0x1_s3x4.constnet.hpp"

#include <catch2/catch.hpp>

#include <vector>

using constnet::buffer;
using constnet::make_tensor;

namespace {

// All values of b in PyTorch's row-major order.
std::vector<float> values(const buffer& b) { return {b.data(), b.data() + b.number_of_elements()}; }
std::vector<int> extents(const buffer& b) {  // PyTorch order
    std::vector<int> e;
    for (int d = b.dimensions() - 1; d >= 0; --d) e.push_back(b.dim(d).extent());
    return e;
}

const buffer X3 = make_tensor({1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
const buffer K2 = make_tensor({1, 1, 2, 2}, {0, 1, 2, 3});

}  // namespace

TEST_CASE("6.2.1 corr2d of the 3x3 X and 2x2 K gives 19 25 37 43", "[aot][chapter]") {
    constnet::model<d2l::corr2d> m;
    m.parameter("0.weight").copy_from(K2);
    auto y = m.forward(X3);
    CHECK(extents(y) == std::vector<int>{1, 1, 2, 2});
    CHECK(values(y) == std::vector<float>{19, 25, 37, 43});
}

TEST_CASE("6.2.3 edge detection with the kernel 1 -1", "[aot][chapter]") {
    auto X = constnet::make_nchw(1, 1, 6, 8);
    X.for_each_element([&](int x, int y, int, int) { X(x, y, 0, 0) = (x >= 2 && x < 6) ? 0.0f : 1.0f; });
    constnet::model<d2l::edge> edge;
    edge.parameter("0.weight").copy_from(make_tensor({1, 1, 1, 2}, {1, -1}));
    edge.parameter("0.bias")(0) = 0.0f;
    auto Y = edge.forward(X);
    REQUIRE(extents(Y) == std::vector<int>{1, 1, 6, 7});
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 7; ++x) CHECK(Y(x, y, 0, 0) == (x == 1 ? 1.0f : x == 5 ? -1.0f : 0.0f));

    // The bias is added everywhere.
    edge.parameter("0.bias")(0) = 0.5f;
    CHECK(edge.forward(X)(0, 0, 0, 0) == 0.5f);

    auto Xt = constnet::make_nchw(1, 1, 8, 6);
    Xt.for_each_element([&](int x, int y, int, int) { Xt(x, y, 0, 0) = X(y, x, 0, 0); });
    constnet::model<d2l::edge_transposed> edge_t;
    edge_t.parameter("0.weight").copy_from(make_tensor({1, 1, 1, 2}, {1, -1}));
    auto Yt = edge_t.forward(Xt);
    REQUIRE(extents(Yt) == std::vector<int>{1, 1, 8, 5});
    CHECK(values(Yt) == std::vector<float>(40, 0.0f));
}

TEST_CASE("6.2.5 convolution equals cross-correlation with the flipped kernel", "[aot][chapter]") {
    constnet::model<d2l::convolution> conv;
    conv.parameter("0.weight").copy_from(K2);
    constnet::model<d2l::corr2d> corr;
    corr.parameter("0.weight").copy_from(make_tensor({1, 1, 2, 2}, {3, 2, 1, 0}));
    auto a = conv.forward(X3);
    CHECK(values(a) == values(corr.forward(X3)));
    // By hand: [[0*3+1*2+3*1+4*0, ...]] = [[5, 11], [23, 29]], and it differs from corr2d(X, K).
    CHECK(values(a) == std::vector<float>{5, 11, 23, 29});
}

TEST_CASE("6.3 padding and stride: output shapes on 8x8", "[aot][chapter]") {
    auto X = constnet::make_nchw(1, 1, 8, 8);
    X.fill(1.0f);
    auto shape_of = [&](auto&& model) {
        model.init(0, constnet::init_kind::pytorch_default);
        auto y = model.forward(X);
        return std::vector<int>{y.dim(1).extent(), y.dim(0).extent()};
    };
    CHECK(shape_of(constnet::model<d2l::pad_k3_p1>{}) == std::vector<int>{8, 8});
    CHECK(shape_of(constnet::model<d2l::pad_k5x3_p2x1>{}) == std::vector<int>{8, 8});
    CHECK(shape_of(constnet::model<d2l::stride_k3_p1_s2>{}) == std::vector<int>{4, 4});
    CHECK(shape_of(constnet::model<d2l::stride_k3x5_p0x1_s3x4>{}) == std::vector<int>{2, 2});
}

TEST_CASE("6.4 multiple input and output channels", "[aot][chapter]") {
    auto X = make_tensor({1, 2, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    auto K = make_tensor({1, 2, 2, 2}, {0, 1, 2, 3, 1, 2, 3, 4});
    constnet::model<d2l::multi_in> in;
    in.parameter("0.weight").copy_from(K);
    CHECK(values(in.forward(X)) == std::vector<float>{56, 72, 104, 120});

    constnet::model<d2l::multi_in_out> out;  // K, K + 1, K + 2
    auto& W = out.parameter("0.weight");
    W.for_each_element([&](int kx, int ky, int c, int k) { W(kx, ky, c, k) = K(kx, ky, c, 0) + k; });
    CHECK(values(out.forward(X)) ==
          std::vector<float>{56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224});
}

TEST_CASE("6.4.3 a 1x1 convolution is a per-pixel matrix product", "[aot][chapter]") {
    auto X = constnet::arange({1, 3, 3, 3});
    constnet::model<d2l::conv1x1> m;
    auto& K = m.parameter("0.weight");
    K.for_each_element([&](int, int, int c, int k) { K(0, 0, c, k) = 0.5f * c - k + 0.25f; });
    auto Y = m.forward(X);
    for (int k = 0; k < 2; ++k)
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 3; ++x) {
                float expect = 0;
                for (int c = 0; c < 3; ++c) expect += K(0, 0, c, k) * X(x, y, c, 0);
                CHECK(Y(x, y, k, 0) == Approx(expect).epsilon(1e-6));
            }
}

TEST_CASE("6.5 pooling", "[aot][chapter]") {
    CHECK(values(constnet::model<d2l::max_pool_2>{}.forward(X3)) == std::vector<float>{4, 5, 7, 8});
    CHECK(values(constnet::model<d2l::avg_pool_2>{}.forward(X3)) == std::vector<float>{2, 3, 5, 6});
    auto X16 = constnet::arange({1, 1, 4, 4});
    CHECK(values(constnet::model<d2l::max_pool_3>{}.forward(X16)) == std::vector<float>{10});
    CHECK(values(constnet::model<d2l::max_pool_3_p1_s2>{}.forward(X16)) == std::vector<float>{5, 7, 13, 15});
    CHECK(values(constnet::model<d2l::max_pool_2x3>{}.forward(X16)) == std::vector<float>{5, 7, 13, 15});
    auto X2 = constnet::make_nchw(1, 2, 4, 4);
    X2.for_each_element([&](int x, int y, int c, int) { X2(x, y, c, 0) = X16(x, y, 0, 0) + c; });
    CHECK(values(constnet::model<d2l::max_pool_two_channels>{}.forward(X2)) ==
          std::vector<float>{5, 7, 13, 15, 6, 8, 14, 16});
}
