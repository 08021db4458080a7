// d2l 6.2.4: learning a kernel. Y is X cross-correlated with K = [[1, -1]];
// a 1x2 conv layer without bias, initialized as PyTorch initializes it, learns
// K back from (X, Y) by gradient descent on the summed squared error, with
// the whole step (forward, loss, backward, update) one generated function.
//   learn_kernel [seed] [iterations]
#include "d2l_edge.constnet.hpp"
#include "d2l_learn_kernel.constnet.hpp"

#include <fmt/core.h>

#include <cstdlib>

int main(int argc, char** argv) try {
    const unsigned long seed = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 0;
    const int iterations = argc > 2 ? std::atoi(argv[2]) : 10;

    auto X = constnet::make_nchw(1, 1, 6, 8);
    X.for_each_element([&](int x, int y, int, int) { X(x, y, 0, 0) = (x >= 2 && x < 6) ? 0.0f : 1.0f; });
    constnet::model<d2l::edge> edge;  // Y = corr2d(X, K)
    edge.parameter("0.weight").copy_from(constnet::make_tensor({1, 1, 1, 2}, {1, -1}));
    edge.parameter("0.bias")(0) = 0.0f;
    auto Y = edge.forward(X);

    fmt::print("== 6.2.4 Learning a kernel (seed {}, lr 3e-2, summed squared error)\n", seed);
    constnet::model<d2l::learn_kernel> conv2d;
    conv2d.init(seed, constnet::init_kind::pytorch_default);
    for (int i = 0; i < iterations; ++i) {
        auto r = conv2d.train_step(X, Y, constnet::sgd(3e-2f));
        if ((i + 1) % 2 == 0) fmt::print("epoch {}, loss {:.3f}\n", i + 1, r.loss);
    }
    const auto& K = conv2d.parameter("0.weight");
    fmt::print("learned kernel: tensor([[{:.4f}, {:.4f}]]) (the true one: [[1, -1]])\n", K(0, 0, 0, 0), K(1, 0, 0, 0));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
