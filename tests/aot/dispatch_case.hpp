// What both dispatch tests compare: LeNet from the single-target library and
// from the multi-target one, with the same weights, on the same batch.
#pragma once

#include "lenet_dispatch_net.constnet.hpp"
#include "lenet_net.constnet.hpp"

#include <algorithm>
#include <cmath>
#include <random>

struct dispatch_case {
    constnet::model<lenet> single;
    constnet::model<lenet_dispatch> multi;
    constnet::buffer x = constnet::model<lenet>::make_input(5);

    dispatch_case() {
        single.init(4);
        // std::copy_n, not Buffer::copy_from: UBSan reports a pointer overflow
        // inside Halide 14's copy_from for these shapes.
        for (int k = 0; k < single.parameter_tensors; ++k)
            std::copy_n(single.parameter(k).data(), single.parameter(k).number_of_elements(), multi.parameter(k).data());
        std::mt19937 rng(2);
        std::uniform_real_distribution<float> u(0.0f, 1.0f);
        std::generate_n(x.data(), x.number_of_elements(), [&] { return u(rng); });
    }
    // Largest |single - multi| over the outputs.
    double difference() const {
        const auto a = single.forward(x), b = multi.forward(x);
        double d = 0;
        for (std::size_t k = 0; k < a.number_of_elements(); ++k) d = std::max(d, double(std::abs(a.data()[k] - b.data()[k])));
        return d;
    }
};
