// Shape rules, one check per rule. Each check is a function template whose
// template arguments are the layer (module index and kind) and the numbers the
// rule involves, so the compiler's "required from ... [with int layer = 3;
// op kind = conv2d; int n = 4; int k = 5; ...]" line names them, and the
// static_assert text names the rule. A failed check marks the node poisoned
// and later layers skip their checks: one error, not a cascade.
#pragma once

#include <constnet/graph.hpp>

namespace constnet::dsl::rules {

// The numbers are the template arguments the compiler prints with the error
// ("[with int layer = 2; ...; int n = 4; int k = 5; ...]"); the messages refer
// to them by those names.

template <int layer, op kind, char axis, int stride>
constexpr void stride_is_positive() {
    static_assert(stride >= 1, "constnet shape rule [stride]: the stride must be at least 1");
}

template <int layer, op kind, char axis, int k>
constexpr void kernel_is_positive() {
    static_assert(k >= 1, "constnet shape rule [kernel]: the kernel (window) size must be at least 1");
}

template <int layer, op kind, char axis, int p_before, int p_after>
constexpr void padding_is_non_negative() {
    static_assert(p_before >= 0 && p_after >= 0, "constnet shape rule [padding]: padding must be >= 0");
}

template <int layer, op kind, char axis, int n, int k, int p_total, int s>
constexpr void kernel_fits_padded_input() {
    static_assert(n + p_total >= k,
                  "constnet shape rule [output size = floor((n + p_total - k) / s) + 1]: "
                  "the kernel k is larger than the padded input n + p_total, so the output would be empty");
}

template <int layer, op kind, char axis, int n, int k, int p_total, int s>
constexpr void window_fits_padded_input() {
    static_assert(n + p_total >= k,
                  "constnet shape rule [output size = floor((n + p_total - k) / s) + 1]: "
                  "the pooling window k is larger than the padded input n + p_total, so the output would be empty");
}

// PyTorch's pooling rule: "pad should be at most half of kernel size".
template <int layer, op kind, char axis, int k, int p>
constexpr void pool_padding_at_most_half_window() {
    static_assert(2 * p <= k,
                  "constnet shape rule [pool padding <= window / 2]: pooling padding p is larger than half the window k");
}

template <int layer, op kind, char axis, int k>
constexpr void same_padding_needs_odd_kernel() {
    static_assert(k % 2 == 1,
                  "constnet shape rule [same padding]: 'same' padding needs an odd kernel k (pad (k - 1) / 2 on each side)");
}

template <int layer, op kind, char axis, int stride>
constexpr void same_padding_needs_stride_one() {
    static_assert(stride == 1, "constnet shape rule [same padding]: 'same' padding needs stride 1 (as PyTorch)");
}

template <int layer, op kind, int units>
constexpr void output_size_is_positive() {
    static_assert(units >= 1,
                  "constnet shape rule [output size]: the number of output channels/features must be at least 1");
}

template <int c, int h, int w>
constexpr void input_is_positive() {
    static_assert(c >= 1 && h >= 1 && w >= 1, "constnet shape rule [input]: every input extent (c, h, w) must be at least 1");
}

template <int features>
constexpr void flat_input_is_positive() {
    static_assert(features >= 1, "constnet shape rule [input]: a flat input needs at least 1 feature");
}

template <int layer, op kind, int features>
constexpr void needs_spatial_input() {
    static_assert(features < 0,
                  "constnet shape rule [spatial input]: this layer needs a C x H x W input but gets a flat vector "
                  "of `features` values (it comes after flatten or dense); move it before flatten");
}

template <int layer, op kind, int c, int h, int w>
constexpr void dense_needs_flat_input() {
    static_assert(c < 0,
                  "constnet shape rule [dense input]: dense needs a flat input, but gets a C x H x W tensor "
                  "(the c, h, w above); insert flatten before dense");
}

template <int layer, op kind, int c, int h, int w>
constexpr void softmax_needs_flat_input() {
    static_assert(c < 0,
                  "constnet shape rule [softmax input]: softmax works over a flat vector of class scores, "
                  "but gets a C x H x W tensor (the c, h, w above); insert flatten and dense first");
}

template <int layer, op kind, int expected, int found>
constexpr void input_channels_match() {
    static_assert(expected == found,
                  "constnet shape rule [channels]: the layer states `expected` input channels/features "
                  "(in_channels<> or in_features<>), but its input has `found`");
}

}  // namespace constnet::dsl::rules
