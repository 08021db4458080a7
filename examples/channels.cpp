// d2l 6.4: multiple input and output channels; 1x1 convolution.
#include "d2l_conv1x1.constnet.hpp"
#include "d2l_multi_in.constnet.hpp"
#include "d2l_multi_in_out.constnet.hpp"

#include <fmt/core.h>

#include <cmath>
#include <random>

int main() try {
    using constnet::format_tensor;
    using constnet::make_tensor;

    fmt::print("== 6.4.1 Multiple input channels\n");
    auto X = make_tensor({1, 2, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    auto K = make_tensor({1, 2, 2, 2}, {0, 1, 2, 3, 1, 2, 3, 4});
    constnet::model<d2l::multi_in> multi_in;
    multi_in.parameter("0.weight").copy_from(K);
    fmt::print("corr2d_multi_in(X, K) = {}\n\n", format_tensor(multi_in.forward(X), 0, 0));

    fmt::print("== 6.4.2 Multiple output channels: K, K + 1, K + 2 stacked\n");
    constnet::model<d2l::multi_in_out> multi_out;
    auto& W = multi_out.parameter("0.weight");  // (kw, kh, c_in, c_out)
    W.for_each_element([&](int kx, int ky, int c, int k) { W(kx, ky, c, k) = K(kx, ky, c, 0) + k; });
    fmt::print("K.shape = torch.Size([3, 2, 2, 2])\ncorr2d_multi_in_out(X, K) = {}\n\n",
               format_tensor(multi_out.forward(X), 0));

    fmt::print("== 6.4.3 1 x 1 convolution equals a per-pixel matrix product\n");
    std::mt19937 rng(0);
    std::normal_distribution<float> normal;
    auto X1 = constnet::make_nchw(1, 3, 3, 3);
    X1.for_each_value([&](float& v) { v = normal(rng); });
    constnet::model<d2l::conv1x1> conv1x1;
    auto& K1 = conv1x1.parameter("0.weight");  // 2 x 3 x 1 x 1
    K1.for_each_value([&](float& v) { v = normal(rng); });
    auto Y1 = conv1x1.forward(X1);
    float worst = 0;
    for (int k = 0; k < 2; ++k)
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 3; ++x) {
                float m = 0;  // Y[k, p] = sum_c K[k, c] X[c, p]
                for (int c = 0; c < 3; ++c) m += K1(0, 0, c, k) * X1(x, y, c, 0);
                worst = std::max(worst, std::fabs(m - Y1(x, y, k, 0)));
            }
    fmt::print("max |conv1x1(X, K) - K @ X| = {:.2g}; equal within 1e-6: {}\n", worst, worst < 1e-6f);
    return worst < 1e-6f ? 0 : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
