// Tensors are Halide::Runtime::Buffer<float> (header-only; no libHalide).
// Halide lists dimensions innermost first, so a PyTorch NCHW tensor [N, C, H,
// W] is the Buffer (W, H, C, N) and a flat batch [N, F] is (F, N); the memory
// layout is the same, so weights and data move between them with memcpy.
#pragma once

#include <HalideBuffer.h>
#include <constnet/graph.hpp>

#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace constnet {

using buffer = Halide::Runtime::Buffer<float>;

// A dense batch of `n` samples of per-sample shape `s`, zero-filled.
inline buffer make_batch(int n, const tensor_shape& s) {
    buffer b = s.rank == 3 ? buffer(s.w(), s.h(), s.c(), n) : buffer(s.features(), n);
    if (n > 0) b.fill(0.0f);
    return b;
}

// An NCHW tensor, dimensions given in PyTorch order.
inline buffer make_nchw(int n, int c, int h, int w) {
    buffer b(w, h, c, n);
    if (b.number_of_elements() > 0) b.fill(0.0f);
    return b;
}

// A tensor from extents in PyTorch order (outermost first) and values in
// PyTorch's row-major order, like torch.tensor(values).reshape(extents).
buffer make_tensor(std::vector<int> extents, std::span<const float> values);
inline buffer make_tensor(std::vector<int> extents, std::initializer_list<float> values) {
    return make_tensor(std::move(extents), std::span<const float>(values.begin(), values.size()));
}
// torch.arange(count).reshape(extents), as float.
buffer arange(std::vector<int> extents);

// Extents in PyTorch order (outermost first): "2 x 1 x 28 x 28".
std::string format_extents(const halide_buffer_t& b);
inline std::string format_extents(const buffer& b) { return format_extents(*b.raw_buffer()); }

// Prints like PyTorch: tensor([[19., 25.], [37., 43.]]); `sample` picks one
// sample (and `channel` one channel) of a batch, -1 keeps the dimension.
std::string format_tensor(const buffer& b, int sample = -1, int channel = -1);

}  // namespace constnet
