// Naive reference implementations of every node kind, the expected values of
// the codegen tests. They are written from the layer definitions (PyTorch
// semantics; the loops of d2l's corr2d, corr2d_multi_in_out and pool2d), not
// from codegen/src/lower.cpp, and know nothing of Halide: plain nested loops
// over std::vector<float> in NCHW order, accumulating in double.
//
// Definitions used (x: input, K: kernel, padded input X, output Y):
//   cross-correlation  Y[i, j] = sum_{a, b} X[i*sh + a, j*sw + b] * K[a, b]
//   convolution        the same with K rotated by 180 degrees
//                      (K'[a, b] = K[kh-1-a, kw-1-b]), i.e. the "flipped kernel"
//   conv2d             Y[o] = bias[o] + sum_c corr(X[c], K[o, c]), zero padding
//   max pool           max over the window, padding counts as -inf
//   avg pool           sum over the window (padding counts as 0) divided by
//                      kh*kw (count_include_pad) or by the number of window
//                      elements inside the unpadded input (!count_include_pad)
//   output size        every window that fits in the padded input, i.e. the
//                      loop "i*s + k <= n + p_total" (the floor rule, not
//                      computed from a formula here)
//   flatten            [N, C, H, W] -> [N, C*H*W], index (c*H + y)*W + x
//   dense              y[j] = sum_u W[j, u] x[u] + b[j], W stored [out, in]
//   softmax            exp(x_j) / sum_k exp(x_k) per sample
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

namespace constnet::test::ref {

// A batch in PyTorch's row-major NCHW order (w fastest). A flat batch [N, F]
// has flat = true, c = F and h = w = 1, which is the same memory order.
struct tensor {
    int n = 0, c = 0, h = 1, w = 1;
    bool flat = false;
    std::vector<float> v;

    static tensor nchw(int n, int c, int h, int w) {
        tensor t;
        t.n = n, t.c = c, t.h = h, t.w = w;
        t.v.assign(static_cast<std::size_t>(n) * c * h * w, 0.0f);
        return t;
    }
    static tensor nf(int n, int features) {
        tensor t = nchw(n, features, 1, 1);
        t.flat = true;
        return t;
    }
    std::size_t index(int in, int ic, int iy, int ix) const {
        return ((static_cast<std::size_t>(in) * c + ic) * h + iy) * w + ix;
    }
    float& at(int in, int ic, int iy, int ix) { return v[index(in, ic, iy, ix)]; }
    float at(int in, int ic, int iy, int ix) const { return v[index(in, ic, iy, ix)]; }
    float& at(int in, int f) { return v[static_cast<std::size_t>(in) * c + f]; }
    float at(int in, int f) const { return v[static_cast<std::size_t>(in) * c + f]; }
};

// One 2-D channel, the unit d2l's corr2d works on.
struct matrix {
    int h = 0, w = 0;
    std::vector<double> v;
    matrix(int rows, int cols, double fill = 0.0) : h(rows), w(cols), v(static_cast<std::size_t>(rows) * cols, fill) {}
    double& operator()(int i, int j) { return v[static_cast<std::size_t>(i) * w + j]; }
    double operator()(int i, int j) const { return v[static_cast<std::size_t>(i) * w + j]; }
};

inline matrix channel(const tensor& x, int in, int ic) {
    matrix m(x.h, x.w);
    for (int i = 0; i < x.h; ++i)
        for (int j = 0; j < x.w; ++j) m(i, j) = x.at(in, ic, i, j);
    return m;
}

// Surrounds X with `fill`: top/bottom rows, left/right columns.
inline matrix pad2d(const matrix& X, int top, int bottom, int left, int right, double fill) {
    matrix P(X.h + top + bottom, X.w + left + right, fill);
    for (int i = 0; i < X.h; ++i)
        for (int j = 0; j < X.w; ++j) P(i + top, j + left) = X(i, j);
    return P;
}

// d2l's corr2d with a stride: every placement of K that lies inside X.
inline matrix corr2d(const matrix& X, const matrix& K, int sh, int sw) {
    int rows = 0, cols = 0;
    while (rows * sh + K.h <= X.h) ++rows;
    while (cols * sw + K.w <= X.w) ++cols;
    matrix Y(rows, cols);
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) {
            double s = 0.0;
            for (int a = 0; a < K.h; ++a)
                for (int b = 0; b < K.w; ++b) s += X(i * sh + a, j * sw + b) * K(a, b);
            Y(i, j) = s;
        }
    return Y;
}

// The kernel turned by 180 degrees: convolution = cross-correlation with it.
inline matrix rot180(const matrix& K) {
    matrix R(K.h, K.w);
    for (int a = 0; a < K.h; ++a)
        for (int b = 0; b < K.w; ++b) R(a, b) = K(K.h - 1 - a, K.w - 1 - b);
    return R;
}

// A kernel or pooling window with its stride and (possibly asymmetric) padding.
struct window {
    int kh = 1, kw = 1;
    int sh = 1, sw = 1;
    int pt = 0, pb = 0, pl = 0, pr = 0;  // top, bottom, left, right
};

// conv2d, d2l's corr2d_multi_in_out: weight [out, in, kh, kw] row-major (as
// PyTorch stores it), bias [out] or empty for none; zero padding.
inline tensor conv2d(const tensor& x, const std::vector<float>& weight, const std::vector<float>& bias, int out_c,
                     const window& k, bool flip) {
    if (x.flat) throw std::invalid_argument("ref::conv2d needs an NCHW input");
    if (weight.size() != static_cast<std::size_t>(out_c) * x.c * k.kh * k.kw)
        throw std::invalid_argument("ref::conv2d: weight size");
    auto kernel = [&](int o, int ic) {
        matrix K(k.kh, k.kw);
        for (int a = 0; a < k.kh; ++a)
            for (int b = 0; b < k.kw; ++b)
                K(a, b) = weight[((static_cast<std::size_t>(o) * x.c + ic) * k.kh + a) * k.kw + b];
        return flip ? rot180(K) : K;
    };
    tensor y;
    for (int in = 0; in < x.n; ++in) {
        std::vector<matrix> X;
        for (int ic = 0; ic < x.c; ++ic) X.push_back(pad2d(channel(x, in, ic), k.pt, k.pb, k.pl, k.pr, 0.0));
        for (int o = 0; o < out_c; ++o) {
            matrix acc = corr2d(X[0], kernel(o, 0), k.sh, k.sw);
            for (int ic = 1; ic < x.c; ++ic) {
                matrix part = corr2d(X[ic], kernel(o, ic), k.sh, k.sw);
                for (std::size_t e = 0; e < acc.v.size(); ++e) acc.v[e] += part.v[e];
            }
            if (y.v.empty()) y = tensor::nchw(x.n, out_c, acc.h, acc.w);
            for (int i = 0; i < acc.h; ++i)
                for (int j = 0; j < acc.w; ++j)
                    y.at(in, o, i, j) = static_cast<float>(acc(i, j) + (bias.empty() ? 0.0 : double(bias[o])));
        }
    }
    return y;
}

enum class pool_mode { max, avg_include_pad, avg_exclude_pad };

// d2l's pool2d over every channel, with padding and stride.
inline tensor pool2d(const tensor& x, const window& k, pool_mode mode) {
    if (x.flat) throw std::invalid_argument("ref::pool2d needs an NCHW input");
    int rows = 0, cols = 0;
    while (rows * k.sh + k.kh <= x.h + k.pt + k.pb) ++rows;
    while (cols * k.sw + k.kw <= x.w + k.pl + k.pr) ++cols;
    const double inf = std::numeric_limits<double>::infinity();
    tensor y = tensor::nchw(x.n, x.c, rows, cols);
    for (int in = 0; in < x.n; ++in)
        for (int ic = 0; ic < x.c; ++ic)
            for (int i = 0; i < rows; ++i)
                for (int j = 0; j < cols; ++j) {
                    double m = -inf, s = 0.0;
                    int inside = 0;
                    for (int a = 0; a < k.kh; ++a)
                        for (int b = 0; b < k.kw; ++b) {
                            const int r = i * k.sh + a - k.pt, q = j * k.sw + b - k.pl;
                            const bool in_bounds = r >= 0 && r < x.h && q >= 0 && q < x.w;
                            const double v = in_bounds ? double(x.at(in, ic, r, q)) : (mode == pool_mode::max ? -inf : 0.0);
                            m = std::max(m, v);
                            s += v;
                            inside += in_bounds;
                        }
                    double out = 0.0;
                    switch (mode) {
                    case pool_mode::max: out = m; break;
                    case pool_mode::avg_include_pad: out = s / (k.kh * k.kw); break;
                    case pool_mode::avg_exclude_pad: out = s / inside; break;
                    }
                    y.at(in, ic, i, j) = static_cast<float>(out);
                }
    return y;
}

template <typename F>
tensor elementwise(tensor x, F f) {
    for (float& e : x.v) e = static_cast<float>(f(double(e)));
    return x;
}
inline tensor relu(const tensor& x) { return elementwise(x, [](double v) { return v > 0.0 ? v : 0.0; }); }
inline tensor sigmoid(const tensor& x) { return elementwise(x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }); }
inline tensor tanh(const tensor& x) { return elementwise(x, [](double v) { return std::tanh(v); }); }

// torch.flatten(x, 1): C, H, W in that order, W fastest.
inline tensor flatten(const tensor& x) {
    if (x.flat) return x;
    tensor y = tensor::nf(x.n, x.c * x.h * x.w);
    for (int in = 0; in < x.n; ++in)
        for (int ic = 0; ic < x.c; ++ic)
            for (int i = 0; i < x.h; ++i)
                for (int j = 0; j < x.w; ++j) y.at(in, (ic * x.h + i) * x.w + j) = x.at(in, ic, i, j);
    return y;
}

// nn.Linear: weight [out, in] row-major, bias [out] or empty.
inline tensor dense(const tensor& x, const std::vector<float>& weight, const std::vector<float>& bias, int units) {
    if (!x.flat) throw std::invalid_argument("ref::dense needs a flat input");
    if (weight.size() != static_cast<std::size_t>(units) * x.c) throw std::invalid_argument("ref::dense: weight size");
    tensor y = tensor::nf(x.n, units);
    for (int in = 0; in < x.n; ++in)
        for (int j = 0; j < units; ++j) {
            double s = bias.empty() ? 0.0 : double(bias[j]);
            for (int u = 0; u < x.c; ++u) s += double(weight[static_cast<std::size_t>(j) * x.c + u]) * x.at(in, u);
            y.at(in, j) = static_cast<float>(s);
        }
    return y;
}

// Softmax over the features of each sample (computed in double; the maximum
// is subtracted only to keep exp in range, which does not change the value).
inline tensor softmax(const tensor& x) {
    if (!x.flat) throw std::invalid_argument("ref::softmax needs a flat input");
    tensor y = x;
    for (int in = 0; in < x.n; ++in) {
        double m = -std::numeric_limits<double>::infinity(), s = 0.0;
        for (int f = 0; f < x.c; ++f) m = std::max(m, double(x.at(in, f)));
        for (int f = 0; f < x.c; ++f) s += std::exp(double(x.at(in, f)) - m);
        for (int f = 0; f < x.c; ++f) y.at(in, f) = static_cast<float>(std::exp(double(x.at(in, f)) - m) / s);
    }
    return y;
}

}  // namespace constnet::test::ref
