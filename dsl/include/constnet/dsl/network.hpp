// A network is a graph of nodes held in its type: network<node0, node1, ...>,
// each node a layer_desc whose `inputs` name its producers. `a | b` appends b
// fed by a's output node; shapes are inferred and checked right there, at
// compile time, so a wrong network does not compile. Branching nodes (add,
// concat) only need more than one input index; nothing here assumes a chain.
#pragma once

#include <array>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <constnet/dsl/layers.hpp>
#include <constnet/dsl/rules.hpp>
#include <constnet/graph.hpp>
#include <cstddef>
#include <span>

namespace constnet::dsl {

namespace hana = boost::hana;

template <int... D>
inline constexpr tensor_shape shape = make_shape(D...);

template <layer_desc... Ds>
struct network {
    static constexpr std::size_t size = sizeof...(Ds);
    static constexpr std::array<layer_desc, size> nodes{Ds...};
    // The nodes as compile-time values, for hana algorithms: each element is
    // layer<desc>, so `decltype(node)::desc` is a constant expression.
    static constexpr auto node_types = hana::make_tuple(layer<Ds>{}...);

    static constexpr bool valid = !nodes.back().poisoned;

    constexpr std::span<const layer_desc> describe() const { return nodes; }
    constexpr tensor_shape input_shape() const { return nodes.front().out; }
    constexpr tensor_shape output_shape() const { return nodes.back().out; }
    constexpr const layer_desc& node(std::size_t i) const { return nodes[i]; }
    constexpr long parameter_count() const {
        long n = 0;
        for (const auto& d : nodes) n += d.parameter_count();
        return n;
    }
    constexpr long flops() const {  // per sample
        long n = 0;
        for (const auto& d : nodes) n += d.flops();
        return n;
    }
    constexpr int parameter_tensor_count() const {
        int n = 0;
        for (const auto& d : nodes) n += d.param_tensors();
        return n;
    }
    template <class F>
    static constexpr void for_each_node(F&& f) {
        hana::for_each(node_types, f);
    }
};

template <class T>
inline constexpr bool is_network = false;
template <layer_desc... Ds>
inline constexpr bool is_network<network<Ds...>> = true;

namespace detail {

template <int... D>
constexpr layer_desc input_desc() {
    layer_desc d;
    d.kind = op::input;
    if constexpr (sizeof...(D) != 3 && sizeof...(D) != 1) {
        static_assert(sizeof...(D) == 3 || sizeof...(D) == 1,
                      "constnet: input takes <C, H, W> (an image) or <N> (a flat vector); the batch is a run-time extent");
        d.out = make_shape(1, 1, 1);
        d.poisoned = true;
    } else if constexpr (sizeof...(D) == 3) {
        d.out = make_shape(D...);
        constexpr std::array<int, 3> v{D...};
        if constexpr (v[0] < 1 || v[1] < 1 || v[2] < 1) {
            rules::input_is_positive<v[0], v[1], v[2]>();
            d.poisoned = true;
        }
    } else {
        d.out = make_shape(D...);
        constexpr int n = (D, ...);
        if constexpr (n < 1) {
            rules::flat_input_is_positive<n>();
            d.poisoned = true;
        }
    }
    return d;
}

// Checks one spatial axis of a conv2d or pooling layer; true if every rule holds.
template <int layer, op kind, char axis, int n, int k, int p0, int p1, int s, bool same>
constexpr bool check_axis() {
    if constexpr (k < 1) {
        rules::kernel_is_positive<layer, kind, axis, k>();
        return false;
    } else if constexpr (s < 1) {
        rules::stride_is_positive<layer, kind, axis, s>();
        return false;
    } else if constexpr (same && k % 2 == 0) {
        rules::same_padding_needs_odd_kernel<layer, kind, axis, k>();
        return false;
    } else if constexpr (same && s != 1) {
        rules::same_padding_needs_stride_one<layer, kind, axis, s>();
        return false;
    } else if constexpr (p0 < 0 || p1 < 0) {
        rules::padding_is_non_negative<layer, kind, axis, p0, p1>();
        return false;
    } else if constexpr (is_pool(kind) && (2 * p0 > k || 2 * p1 > k)) {
        rules::pool_padding_at_most_half_window<layer, kind, axis, k, (p0 > p1 ? p0 : p1)>();
        return false;
    } else if constexpr (n + p0 + p1 < k) {
        if constexpr (kind == op::conv2d)
            rules::kernel_fits_padded_input<layer, kind, axis, n, k, p0 + p1, s>();
        else
            rules::window_fits_padded_input<layer, kind, axis, n, k, p0 + p1, s>();
        return false;
    } else {
        return true;
    }
}

template <int layer, layer_desc L, tensor_shape in>
constexpr bool check_spatial() {
    if constexpr (in.rank != 3) {
        rules::needs_spatial_input<layer, L.kind, in.features()>();
        return false;
    } else if constexpr (L.kind == op::conv2d && L.units < 1) {
        rules::output_size_is_positive<layer, L.kind, L.units>();
        return false;
    } else if constexpr (L.kind == op::conv2d && L.expect_in != 0 && L.expect_in != in.c()) {
        rules::input_channels_match<layer, L.kind, L.expect_in, in.c()>();
        return false;
    } else if constexpr (!check_axis<layer, L.kind, 'h', in.h(), L.kh, L.pad_top, L.pad_bottom, L.sh, L.same>()) {
        return false;
    } else {
        return check_axis<layer, L.kind, 'w', in.w(), L.kw, L.pad_left, L.pad_right, L.sw, L.same>();
    }
}

template <int layer, layer_desc L, tensor_shape in>
constexpr bool check() {
    if constexpr (L.kind == op::conv2d || is_pool(L.kind)) {
        return check_spatial<layer, L, in>();
    } else if constexpr (L.kind == op::dense) {
        if constexpr (in.rank != 1) {
            rules::dense_needs_flat_input<layer, L.kind, in.c(), in.h(), in.w()>();
            return false;
        } else if constexpr (L.units < 1) {
            rules::output_size_is_positive<layer, L.kind, L.units>();
            return false;
        } else if constexpr (L.expect_in != 0 && L.expect_in != in.features()) {
            rules::input_channels_match<layer, L.kind, L.expect_in, in.features()>();
            return false;
        } else {
            return true;
        }
    } else if constexpr (L.kind == op::softmax && in.rank != 1) {
        rules::softmax_needs_flat_input<layer, L.kind, in.c(), in.h(), in.w()>();
        return false;
    } else {
        return true;
    }
}

// A poisoned node gets a harmless 1x1x1 output so later layers raise nothing.
constexpr layer_desc poison(layer_desc d, tensor_shape in) {
    d.in = in;
    d.out = make_shape(1, 1, 1);
    d.poisoned = true;
    return d;
}

template <int node, layer_desc L, tensor_shape in, bool prev_poisoned>
constexpr layer_desc attach() {
    layer_desc d;
    if constexpr (prev_poisoned || L.poisoned) {  // `if constexpr`: a poisoned input must not even instantiate the checks
        d = poison(L, in);
    } else if constexpr (check<module_index(node), L, in>()) {
        d = infer_shapes(L, in);
    } else {
        d = poison(L, in);
    }
    d.inputs = {node - 1, -1};
    return d;
}

}  // namespace detail

template <int... D>
inline constexpr network<detail::input_desc<D...>()> input{};

template <layer_desc... Ds, layer_desc L>
constexpr auto operator|(network<Ds...>, layer<L>) {
    constexpr layer_desc last = network<Ds...>::nodes.back();
    return network<Ds..., detail::attach<sizeof...(Ds), L, last.out, last.poisoned>()>{};
}

// `conv2d<...> | relu` without an input: one error, then a poisoned network
// so the rest of the chain raises nothing.
template <layer_desc A, layer_desc B>
constexpr auto operator|(layer<A>, layer<B>) {
    static_assert(A.kind == op::input, "constnet: a network starts with input<C, H, W>, e.g. input<1, 28, 28> | conv2d<6, 5>");
    return network<detail::poison(layer_desc{}, make_shape(1, 1, 1))>{};
}

}  // namespace constnet::dsl
