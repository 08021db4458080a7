// d2l 6.3: padding and stride. Output size = floor((n + p_total - k) / s) + 1,
// checked by the compiler; here each layer also runs on an 8x8 input.
#include "d2l_pad_k3_p1.constnet.hpp"
#include "d2l_pad_k5x3_p2x1.constnet.hpp"
#include "d2l_stride_k3_p1_s2.constnet.hpp"
#include "d2l_stride_k3x5_p0x1_s3x4.constnet.hpp"

#include <fmt/core.h>

template <const auto& Net>
void show(const char* what) {
    constnet::model<Net> layer;
    layer.init(0, constnet::init_kind::pytorch_default);
    auto X = constnet::make_nchw(1, 1, 8, 8);
    X.fill(1.0f);
    auto Y = layer.forward(X);
    static_assert(constnet::model<Net>::output_shape.c() == 1);
    fmt::print("{:<40} torch.Size([{}, {}])\n", what, Y.dim(1).extent(), Y.dim(0).extent());
}

int main() try {
    fmt::print("== 6.3 Padding and stride (input 8 x 8)\n");
    show<d2l::pad_k3_p1>("kernel 3, padding 1:");
    show<d2l::pad_k5x3_p2x1>("kernel (5, 3), padding (2, 1):");
    show<d2l::stride_k3_p1_s2>("kernel 3, padding 1, stride 2:");
    show<d2l::stride_k3x5_p0x1_s3x4>("kernel (3, 5), padding (0, 1), stride (3, 4):");
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
