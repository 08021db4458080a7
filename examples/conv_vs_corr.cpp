// d2l 6.2.5: cross-correlation and convolution. A layer computing a true
// convolution (the kernel flipped) equals cross-correlation with the flipped
// kernel, so learned kernels work either way.
#include "d2l_convolution.constnet.hpp"
#include "d2l_corr2d.constnet.hpp"

#include <fmt/core.h>

int main() try {
    using constnet::format_tensor;
    using constnet::make_tensor;
    auto X = make_tensor({1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
    auto K = make_tensor({1, 1, 2, 2}, {0, 1, 2, 3});
    auto K_flipped = make_tensor({1, 1, 2, 2}, {3, 2, 1, 0});

    fmt::print("== 6.2.5 Cross-correlation and convolution\n");
    constnet::model<d2l::convolution> conv;  // conv2d(..., flip_kernel)
    conv.parameter("0.weight").copy_from(K);
    constnet::model<d2l::corr2d> corr;
    corr.parameter("0.weight").copy_from(K_flipped);
    auto a = conv.forward(X), b = corr.forward(X);
    fmt::print("convolution(X, K)            = {}\n", format_tensor(a, 0, 0));
    fmt::print("cross_correlation(X, flip K) = {}\n", format_tensor(b, 0, 0));
    bool equal = true;
    a.for_each_element([&](const int* pos) { equal &= a(pos) == b(pos); });
    fmt::print("equal: {}\n", equal);
    return equal ? 0 : 1;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
