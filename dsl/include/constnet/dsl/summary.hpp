// A torchinfo-style summary of a network description: one row per layer with
// its output shape and parameter count, then totals.
#pragma once

#include <constnet/graph.hpp>
#include <fmt/format.h>
#include <span>
#include <string>

namespace constnet {

inline std::string format_shape(const tensor_shape& s) {
    if (s.rank == 1) return fmt::format("{}", s.dims[0]);
    return fmt::format("{} x {} x {}", s.dims[0], s.dims[1], s.dims[2]);
}

// "conv2d 5x5 p2", "avg_pool 2x2 s2", "dense 120": the layer and its numbers.
inline std::string describe_layer(const layer_desc& d) {
    std::string s{op_name(d.kind)};
    if (d.kind == op::conv2d || is_pool(d.kind)) {
        s += fmt::format(" {}x{}", d.kh, d.kw);
        if (d.sh != 1 || d.sw != 1 || is_pool(d.kind))
            s += d.sh == d.sw ? fmt::format(" s{}", d.sh) : fmt::format(" s{},{}", d.sh, d.sw);
        bool sym = d.pad_top == d.pad_bottom && d.pad_left == d.pad_right;
        if (d.has_padding()) {
            if (sym && d.pad_top == d.pad_left) s += fmt::format(" p{}", d.pad_top);
            else if (sym) s += fmt::format(" p{},{}", d.pad_top, d.pad_left);
            else s += fmt::format(" p{},{},{},{}", d.pad_top, d.pad_bottom, d.pad_left, d.pad_right);
        }
        if (d.kind == op::conv2d && !d.bias) s += " no-bias";
        if (d.flip) s += " flipped";
        if (d.kind == op::avg_pool && !d.count_include_pad) s += " excl-pad";
    } else if (d.kind == op::dense) {
        s += fmt::format(" {}", d.units);
        if (!d.bias) s += " no-bias";
    }
    return s;
}

inline std::string summary(std::span<const layer_desc> nodes) {
    std::string out;
    constexpr int w0 = 28, w1 = 18, w2 = 12;
    auto rule = [&](char c) { out += std::string(w0 + w1 + w2, c) + '\n'; };
    rule('=');
    out += fmt::format("{:<{}}{:<{}}{:>{}}\n", "Layer (index: kind)", w0, "Output shape", w1, "Param #", w2);
    rule('=');
    long params = 0, flops = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const auto& d = nodes[i];
        std::string name = d.kind == op::input
                               ? std::string("input")
                               : fmt::format("{}: {}", module_index(static_cast<int>(i)), describe_layer(d));
        out += fmt::format("{:<{}}{:<{}}{:>{}}\n", name, w0, format_shape(d.out), w1, fmt::group_digits(d.parameter_count()), w2);
        params += d.parameter_count();
        flops += d.flops();
    }
    rule('=');
    out += fmt::format("Total params: {}\n", fmt::group_digits(params));
    out += fmt::format("FLOPs per sample: {} (2 per multiply-add)\n", fmt::group_digits(flops));
    out += fmt::format("Input: N x {}   Output: N x {}\n", format_shape(nodes.front().out), format_shape(nodes.back().out));
    rule('=');
    return out;
}

}  // namespace constnet
