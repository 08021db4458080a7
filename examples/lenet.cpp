// d2l 6.6: LeNet. Prints the layer summary (the chapter's shapes), then runs
// the ahead-of-time compiled network on Fashion-MNIST test images with seeded
// Xavier-uniform weights. (Training it is the next step of the chapter.)
#include "lenet_net.constnet.hpp"

#include <constnet/idx.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

int main(int argc, char** argv) try {
    const char* dir = argc > 1 ? argv[1] : constnet::data::fashion_mnist_default_dir;
    fmt::print("== 6.6 LeNet\n{}", cn::summary(lenet));

    constnet::model<lenet> model;
    model.init(42, constnet::init_kind::xavier_uniform);

    auto test = constnet::data::load_fashion_mnist(dir, "t10k");
    const int n = test.images.count;
    auto images = model.make_input(n);  // pixels scaled to [0, 1], as d2l's ToTensor
    std::transform(test.images.pixels.begin(), test.images.pixels.end(), images.data(),
                   [](std::uint8_t p) { return p / 255.0f; });

    auto start = std::chrono::steady_clock::now();
    auto logits = model.forward(images);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    int correct = 0;
    const auto& names = constnet::data::fashion_mnist_text_labels();
    fmt::print("\nInference on {} Fashion-MNIST test images (untrained, Xavier-uniform, seed 42): {:.1f} ms, {:.0f} images/s\n",
               n, seconds * 1e3, n / seconds);
    for (int s = 0; s < n; ++s) {
        int best = 0;
        for (int k = 1; k < 10; ++k)
            if (logits(k, s) > logits(best, s)) best = k;
        correct += best == test.labels[s];
        if (s < 6) fmt::print("  image {}: label {:<11} predicted {}\n", s, names[test.labels[s]], names[best]);
    }
    fmt::print("accuracy {:.3f} (chance is 0.1 before training)\n", correct / double(n));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
