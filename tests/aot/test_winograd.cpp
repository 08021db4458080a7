// Generated Winograd convs through constnet::model, which transforms their
// weights when they change, and 1x1 convs as matrix products (PyTorch's
// layout as it is), against a direct loop over PyTorch's layout.
#include "pointwise_plain_net.constnet.hpp"
#include "pointwise_strided_net.constnet.hpp"
#include "winograd_correlation_net.constnet.hpp"
#include "winograd_convolution_net.constnet.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

namespace {

void randomize(constnet::buffer& b, std::mt19937& g) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (std::size_t i = 0; i < b.number_of_elements(); ++i) b.data()[i] = u(g);
}

// out[n][o][y][x] = bias[o] + sum over i, ky, kx of w[o][i][ky][kx] *
// in[n][i][y * stride + ky - pad][x * stride + kx - pad] (the kernel reversed
// in both directions when `flip`), in double.
template <class Model>
void check_against_direct(Model& m, int pad, bool flip, bool relu, std::uint32_t seed, int stride = 1) {
    std::mt19937 g(seed);
    const int batch = 3;
    auto x = Model::make_input(batch);
    randomize(x, g);
    for (int k = 0; k < Model::parameter_tensors; ++k) randomize(m.parameter(k), g);
    const auto& w = m.parameter(0);
    const int kw = w.dim(0).extent(), kh = w.dim(1).extent(), C = w.dim(2).extent(), O = w.dim(3).extent();
    const int W = x.dim(0).extent(), H = x.dim(1).extent();
    const auto y = m.forward(x);
    const int OW = y.dim(0).extent(), OH = y.dim(1).extent();
    REQUIRE(y.dim(2).extent() == O);
    double worst = 0;
    for (int n = 0; n < batch; ++n)
        for (int o = 0; o < O; ++o)
            for (int oy = 0; oy < OH; ++oy)
                for (int ox = 0; ox < OW; ++ox) {
                    double v = Model::parameter_tensors > 1 ? m.parameter(1).data()[o] : 0.0;
                    for (int i = 0; i < C; ++i)
                        for (int ky = 0; ky < kh; ++ky)
                            for (int kx = 0; kx < kw; ++kx) {
                                const int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                const int wy = flip ? kh - 1 - ky : ky, wx = flip ? kw - 1 - kx : kx;
                                v += double(w.data()[((long(o) * C + i) * kh + wy) * kw + wx]) *
                                     x.data()[((long(n) * C + i) * H + iy) * W + ix];
                            }
                    if (relu) v = std::max(v, 0.0);
                    const float got = y.data()[((long(n) * O + o) * OH + oy) * OW + ox];
                    // 2e-5: float32 sums of up to 432 (transformed) products, in an order that depends on the target
                    worst = std::max(worst, std::fabs(got - v) / (2e-5 + 2e-5 * std::fabs(v)));
                }
    INFO("worst error, in units of 2e-5 (absolute + relative)");
    CHECK(worst <= 1.0);
}

}  // namespace

TEST_CASE("Winograd convs through the model match a direct loop, also after the weights change", "[aot][winograd]") {
    using Corr = constnet::model<winograd::correlation>;
    using Conv = constnet::model<winograd::convolution>;
    static_assert(winograd::correlation.describe()[1].winograd_rows_weight());
    static_assert(winograd::convolution.describe()[1].winograd_rows_weight());
    static_assert(!winograd::correlation.describe()[1].winograd_blocked_weight());
    static_assert(winograd::convolution.describe()[1].winograd_blocked_weight());
    Corr corr;
    check_against_direct(corr, 1, false, true, 1);
    check_against_direct(corr, 1, false, true, 2);  // new weights: transformed again
    Conv conv;
    check_against_direct(conv, 0, true, false, 3);
    check_against_direct(conv, 0, true, false, 7);  // new weights: arranged in blocks again
}

TEST_CASE("1x1 convs as matrix products through the model match a direct loop", "[aot][pointwise]") {
    static_assert(pointwise::strided.describe()[1].pointwise_gemm());
    static_assert(pointwise::plain.describe()[1].pointwise_gemm());
    static_assert(!pointwise::strided.describe()[1].output_major_weight());  // PyTorch's layout, not rearranged
    constnet::model<pointwise::strided> strided;
    check_against_direct(strided, 0, false, true, 4, 2);
    check_against_direct(strided, 0, false, true, 5, 2);  // new weights
    constnet::model<pointwise::plain> plain;
    check_against_direct(plain, 0, false, false, 6);
}
