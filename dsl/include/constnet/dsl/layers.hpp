// Layer constructors and options. A layer is `layer<desc>`: its parameters as
// a compile-time value, shapes not yet known. Shapes are inferred when the
// layer is attached to a network (network.hpp), which runs the rules.
//
//   conv2d<Out, K>, conv2d<Out, KH, KW>   cross-correlation, PyTorch's Conv2d
//       options: padding<p> | padding<ph, pw> | padding<top, bottom, left, right>
//                | same (odd kernel, stride 1); stride<s> | stride<sh, sw>;
//                no_bias; flip_kernel (true convolution); in_channels<C> (checked)
//       out: floor((H + p_top + p_bottom - KH) / sh) + 1, likewise W
//   max_pool<K>, max_pool<KH, KW>, avg_pool<...>   stride defaults to the window
//       options: padding<...> (at most half the window, as PyTorch), stride<...>,
//                exclude_padding (avg_pool: divide by the in-bounds count)
//       max_pool pads with -inf; avg_pool counts padding by default (PyTorch)
//   relu, sigmoid, tanh                   elementwise, any shape
//   flatten                               C x H x W -> C*H*W (a flat input stays as it is)
//   dense<N>                              flat input only; options: no_bias, in_features<N>
//   softmax                               flat input only
#pragma once

#include <array>
#include <constnet/graph.hpp>
#include <cstddef>
#include <tuple>

namespace constnet::dsl {

template <layer_desc D>
struct layer {
    static constexpr layer_desc desc = D;
};

// Options. Each knows which layer kinds it applies to, and its category: a
// layer takes at most one option of each (padding<> and same are both padding).
enum class option_category { padding, stride, bias, flip, divisor, expected_inputs };

template <int T, int B, int L, int R>
struct padding_t {
    static constexpr option_category category = option_category::padding;
    static constexpr bool applies(op k) { return k == op::conv2d || is_pool(k); }
    static constexpr void apply(layer_desc& d) {
        d.pad_top = T, d.pad_bottom = B, d.pad_left = L, d.pad_right = R;
    }
};
namespace detail {
template <int... P>
struct padding_sel {
    static_assert(sizeof...(P) == 1 || sizeof...(P) == 2 || sizeof...(P) == 4,
                  "constnet: padding takes <p>, <p_h, p_w> or <top, bottom, left, right>");
    using type = padding_t<0, 0, 0, 0>;  // keeps the one error above the only one
};
template <int P>
struct padding_sel<P> { using type = padding_t<P, P, P, P>; };
template <int PH, int PW>
struct padding_sel<PH, PW> { using type = padding_t<PH, PH, PW, PW>; };
template <int T, int B, int L, int R>
struct padding_sel<T, B, L, R> { using type = padding_t<T, B, L, R>; };
}  // namespace detail
template <int... P>
inline constexpr typename detail::padding_sel<P...>::type padding{};

struct same_t {
    static constexpr option_category category = option_category::padding;
    static constexpr bool applies(op k) { return k == op::conv2d; }
    static constexpr void apply(layer_desc& d) { d.same = true; }
};
inline constexpr same_t same{};

template <int SH, int SW>
struct stride_t {
    static constexpr option_category category = option_category::stride;
    static constexpr bool applies(op k) { return k == op::conv2d || is_pool(k); }
    static constexpr void apply(layer_desc& d) { d.sh = SH, d.sw = SW; }
};
namespace detail {
template <int... S>
struct stride_sel {
    static_assert(sizeof...(S) == 1 || sizeof...(S) == 2, "constnet: stride takes <s> or <s_h, s_w>");
    using type = stride_t<1, 1>;
};
template <int S>
struct stride_sel<S> { using type = stride_t<S, S>; };
template <int SH, int SW>
struct stride_sel<SH, SW> { using type = stride_t<SH, SW>; };
}  // namespace detail
template <int... S>
inline constexpr typename detail::stride_sel<S...>::type stride{};

struct no_bias_t {
    static constexpr option_category category = option_category::bias;
    static constexpr bool applies(op k) { return k == op::conv2d || k == op::dense; }
    static constexpr void apply(layer_desc& d) { d.bias = false; }
};
inline constexpr no_bias_t no_bias{};

struct flip_kernel_t {
    static constexpr option_category category = option_category::flip;
    static constexpr bool applies(op k) { return k == op::conv2d; }
    static constexpr void apply(layer_desc& d) { d.flip = true; }
};
inline constexpr flip_kernel_t flip_kernel{};

struct exclude_padding_t {
    static constexpr option_category category = option_category::divisor;
    static constexpr bool applies(op k) { return k == op::avg_pool; }
    static constexpr void apply(layer_desc& d) { d.count_include_pad = false; }
};
inline constexpr exclude_padding_t exclude_padding{};

template <int N>
struct expect_in_t {
    static constexpr option_category category = option_category::expected_inputs;
    static constexpr bool applies(op k) { return k == op::conv2d || k == op::dense; }
    static constexpr void apply(layer_desc& d) { d.expect_in = N; }
};
template <int C>
inline constexpr expect_in_t<C> in_channels{};
template <int N>
inline constexpr expect_in_t<N> in_features{};

namespace detail {
// The option and the layer kind are template arguments, so the compiler
// names both: "[with constnet::op kind = constnet::op::max_pool; Option = constnet::dsl::no_bias_t]".
template <op kind, class Option>
constexpr void option_applies_to_layer() {
    static_assert(Option::applies(kind), "constnet option rule: this option does not apply to this kind of layer");
}
template <op kind, class Option>
constexpr void option_given_once() {
    static_assert(kind != kind,
                  "constnet option rule: a layer takes one option of each kind (one padding<> or same, one stride<>)");
}
template <op kind, class Option>
constexpr void check_applies() {
    if constexpr (!Option::applies(kind)) option_applies_to_layer<kind, Option>();
}
template <class... Opts>
constexpr int first_repeated_option() {
    constexpr std::array<option_category, sizeof...(Opts)> c{Opts::category...};
    for (std::size_t i = 0; i < c.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (c[i] == c[j]) return static_cast<int>(i);
    return -1;
}
// Applies the options; a wrong one is reported once and poisons the layer.
template <layer_desc D, class... Opts>
constexpr layer_desc with_options() {
    constexpr int repeated = first_repeated_option<Opts...>();
    layer_desc d = D;
    if constexpr ((!Opts::applies(D.kind) || ...)) {
        (check_applies<D.kind, Opts>(), ...);
        d.poisoned = true;
    } else if constexpr (repeated >= 0) {
        option_given_once<D.kind, std::tuple_element_t<repeated, std::tuple<Opts...>>>();
        d.poisoned = true;
    } else {
        (Opts::apply(d), ...);
    }
    return d;
}

// A layer that also accepts options: conv2d<6, 5>(padding<2>, stride<2>).
template <layer_desc D>
struct configurable : layer<D> {
    template <class... Opts>
    constexpr auto operator()(Opts...) const {
        return layer<with_options<D, Opts...>()>{};
    }
};

constexpr layer_desc conv_base(int units, int kh, int kw) {
    layer_desc d;
    d.kind = op::conv2d, d.units = units, d.kh = kh, d.kw = kw;
    return d;
}
constexpr layer_desc pool_base(op kind, int kh, int kw) {
    layer_desc d;
    d.kind = kind, d.kh = kh, d.kw = kw, d.sh = kh, d.sw = kw;  // PyTorch: stride = window
    return d;
}
constexpr layer_desc plain(op kind) {
    layer_desc d;
    d.kind = kind;
    return d;
}
constexpr layer_desc dense_base(int units) {
    layer_desc d;
    d.kind = op::dense, d.units = units;
    return d;
}
}  // namespace detail

template <int Out, int KH, int KW = KH>
inline constexpr detail::configurable<detail::conv_base(Out, KH, KW)> conv2d{};
template <int KH, int KW = KH>
inline constexpr detail::configurable<detail::pool_base(op::max_pool, KH, KW)> max_pool{};
template <int KH, int KW = KH>
inline constexpr detail::configurable<detail::pool_base(op::avg_pool, KH, KW)> avg_pool{};
template <int N>
inline constexpr detail::configurable<detail::dense_base(N)> dense{};

inline constexpr layer<detail::plain(op::relu)> relu{};
inline constexpr layer<detail::plain(op::sigmoid)> sigmoid{};
inline constexpr layer<detail::plain(op::tanh)> tanh{};
inline constexpr layer<detail::plain(op::flatten)> flatten{};
inline constexpr layer<detail::plain(op::softmax)> softmax{};

}  // namespace constnet::dsl
