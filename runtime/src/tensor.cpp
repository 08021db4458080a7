#include <constnet/tensor.hpp>

#include <constnet/error.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

namespace constnet {

buffer make_tensor(std::vector<int> extents, std::span<const float> values) {
    long count = 1;
    for (int e : extents) count *= e;
    if (count != static_cast<long>(values.size()))
        throw error(fmt::format("make_tensor: extents [{}] hold {} values, got {}", fmt::join(extents, ", "), count,
                                values.size()));
    std::vector<int> halide_order(extents.rbegin(), extents.rend());
    buffer b(halide_order);
    std::copy(values.begin(), values.end(), b.data());
    return b;
}

buffer arange(std::vector<int> extents) {
    long count = 1;
    for (int e : extents) count *= e;
    std::vector<float> v(count);
    for (long k = 0; k < count; ++k) v[k] = static_cast<float>(k);
    return make_tensor(std::move(extents), v);
}

std::string format_extents(const halide_buffer_t& b) {
    std::string s;
    for (int d = b.dimensions - 1; d >= 0; --d) s += fmt::format("{}{}", b.dim[d].extent, d ? " x " : "");
    return s.empty() ? "a buffer with no dimensions" : s;
}

namespace {
// PyTorch's style for small float tensors: "19." for integers, else 4 decimals.
std::string format_value(float v, bool all_integers) {
    if (all_integers) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
}

void format_rec(std::string& out, const buffer& b, std::vector<int>& pos, int dim, bool ints, int indent) {
    out += '[';
    const int extent = b.dim(dim).extent();
    for (int k = 0; k < extent; ++k) {
        pos[dim] = b.dim(dim).min() + k;
        if (dim == 0) {
            out += format_value(b(pos.data()), ints);
            if (k + 1 < extent) out += ", ";
        } else {
            format_rec(out, b, pos, dim - 1, ints, indent + 1);
            if (k + 1 < extent) out += ",\n" + std::string(indent + 1, ' ');
        }
    }
    out += ']';
}
}  // namespace

std::string format_tensor(const buffer& whole, int sample, int channel) {
    buffer b = whole;
    const int rank = b.dimensions();
    if (sample >= 0 && rank >= 2) b = b.sliced(rank - 1, sample);
    if (channel >= 0 && b.dimensions() >= 3) b = b.sliced(b.dimensions() - 1, channel);
    bool ints = true;
    b.for_each_value([&](float v) { ints &= std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e6f; });
    std::vector<int> pos(b.dimensions());
    std::string out = "tensor(";
    if (b.dimensions() == 0) out += format_value(b(), ints);
    else format_rec(out, b, pos, b.dimensions() - 1, ints, 7);
    return out + ")";
}

}  // namespace constnet
