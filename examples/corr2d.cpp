// d2l 6.2.1-6.2.3: cross-correlation, a convolutional layer, edge detection.
#include "d2l_corr2d.constnet.hpp"
#include "d2l_edge.constnet.hpp"
#include "d2l_edge_transposed.constnet.hpp"

#include <fmt/core.h>

int main() try {
    using constnet::format_tensor;
    using constnet::make_tensor;

    fmt::print("== 6.2.1 The cross-correlation operation\n");
    constnet::model<d2l::corr2d> corr2d;
    corr2d.parameter("0.weight").copy_from(make_tensor({1, 1, 2, 2}, {0, 1, 2, 3}));
    auto X = make_tensor({1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
    fmt::print("X = {}\nK = {}\ncorr2d(X, K) = {}\n\n", format_tensor(X, 0, 0),
               format_tensor(corr2d.parameter("0.weight"), 0, 0), format_tensor(corr2d.forward(X), 0, 0));

    fmt::print("== 6.2.2-6.2.3 A convolutional layer; object edge detection in images\n");
    // X: ones with columns 2..5 black (zero); K = [[1, -1]] finds vertical edges.
    auto image = constnet::make_nchw(1, 1, 6, 8);
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 8; ++x) image(x, y, 0, 0) = (x >= 2 && x < 6) ? 0.0f : 1.0f;
    constnet::model<d2l::edge> edge;  // a conv layer: weight 1 x 1 x 1 x 2 and a bias
    edge.parameter("0.weight").copy_from(make_tensor({1, 1, 1, 2}, {1, -1}));
    edge.parameter("0.bias")(0) = 0.0f;
    fmt::print("X = {}\nY = corr2d(X, K) = {}\n", format_tensor(image, 0, 0), format_tensor(edge.forward(image), 0, 0));

    auto transposed = constnet::make_nchw(1, 1, 8, 6);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 6; ++x) transposed(x, y, 0, 0) = image(y, x, 0, 0);
    constnet::model<d2l::edge_transposed> edge_t;
    edge_t.parameter("0.weight").copy_from(edge.parameter("0.weight"));
    fmt::print("corr2d(X.t(), K) = {}\n(K detects only vertical edges)\n",
               format_tensor(edge_t.forward(transposed), 0, 0));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
