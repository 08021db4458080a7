// Winograd's minimal filtering along rows: the matrices of F(m, r) and the
// Halide expressions that apply them. Shared by the forward lowering
// (lower.cpp) and the train step (train.cpp).
#pragma once

#include <Halide.h>

#include <cmath>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace constnet::codegen::winograd_detail {

using Halide::Expr;

// Winograd's minimal filtering F(m, r) along a row (Lavin & Gray 2016;
// Toom-Cook with the points 0, 1, -1, 2, -2, ... and infinity): m outputs
// of an r-tap correlation, y = AT [(G g) . (BT d)], from n = m + r - 1
// inputs d with n multiplications instead of m * r.
struct winograd_matrices {
    int m, r, n;
    std::vector<std::vector<double>> at, g, bt;  // m x n, n x r, n x n
};

inline winograd_matrices winograd(int m, int r) {
    winograd_matrices w{m, r, m + r - 1, {}, {}, {}};
    const double candidates[] = {0, 1, -1, 2, -2, 0.5, -0.5, 3, -3};
    if (w.n - 1 > int(std::size(candidates))) throw std::logic_error("constnet: Winograd F(m, r) too large");
    const std::vector<double> p(candidates, candidates + w.n - 1);
    auto times = [](const std::vector<double>& a, double root) {  // a(x) * (x - root), coefficients ascending
        std::vector<double> out(a.size() + 1, 0.0);
        for (std::size_t i = 0; i < a.size(); ++i) out[i + 1] += a[i], out[i] -= root * a[i];
        return out;
    };
    for (int i = 0; i < m; ++i) {
        w.at.emplace_back();
        for (double q : p) w.at.back().push_back(std::pow(q, i));
        w.at.back().push_back(i == m - 1 ? 1.0 : 0.0);
    }
    std::vector<double> all{1.0};
    for (std::size_t j = 0; j < p.size(); ++j) {
        double f = 1;
        std::vector<double> others{1.0};
        for (std::size_t l = 0; l < p.size(); ++l)
            if (l != j) f *= p[j] - p[l], others = times(others, p[l]);
        w.g.emplace_back();
        for (int k = 0; k < r; ++k) w.g.back().push_back(std::pow(p[j], k) / f);
        others.resize(w.n, 0.0);
        w.bt.push_back(others);
        all = times(all, p[j]);
    }
    w.g.emplace_back(r, 0.0);
    w.g.back()[r - 1] = 1.0;
    w.bt.push_back(all);
    return w;
}

// sum over k of coefficient[k] * term(k), the zero coefficients left out.
template <class Term>
inline Expr linear_combination(const std::vector<double>& coefficient, Term term) {
    Expr sum;
    for (std::size_t k = 0; k < coefficient.size(); ++k) {
        if (coefficient[k] == 0.0) continue;
        // a negative coefficient subtracts (exactly what adding its product does)
        const double c = sum.defined() ? std::abs(coefficient[k]) : coefficient[k];
        Expr t = c == 1.0 ? term(k) : float(c) * term(k);
        sum = !sum.defined() ? t : coefficient[k] < 0 ? sum - t : sum + t;
    }
    return sum.defined() ? sum : Expr(0.0f);
}

// rows[e] for a run-time row index e.
inline Expr row_of(const Expr& e, const std::vector<Expr>& rows) {
    Expr r = rows.back();
    for (int k = int(rows.size()) - 2; k >= 0; --k) r = select(e == k, rows[k], r);
    return r;
}

// Row e of matrix x term: sum over j of matrix[e][j] * term(j).
template <class Term>
inline Expr transform(const Expr& e, const std::vector<std::vector<double>>& matrix, Term term) {
    std::vector<Expr> rows;
    for (const auto& coefficients : matrix) rows.push_back(linear_combination(coefficients, term));
    return row_of(e, rows);
}

inline std::vector<std::vector<double>> transposed(const std::vector<std::vector<double>>& a) {
    std::vector<std::vector<double>> t(a[0].size(), std::vector<double>(a.size()));
    for (std::size_t r = 0; r < a.size(); ++r)
        for (std::size_t k = 0; k < a[r].size(); ++k) t[k][r] = a[r][k];
    return t;
}

}  // namespace constnet::codegen::winograd_detail
