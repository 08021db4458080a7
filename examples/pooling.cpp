// d2l 6.5: maximum and average pooling, with padding, stride and channels.
#include "d2l_avg_pool_2.constnet.hpp"
#include "d2l_max_pool_2.constnet.hpp"
#include "d2l_max_pool_2x3.constnet.hpp"
#include "d2l_max_pool_3.constnet.hpp"
#include "d2l_max_pool_3_p1_s2.constnet.hpp"
#include "d2l_max_pool_two_channels.constnet.hpp"

#include <fmt/core.h>

template <const auto& Net>
constnet::buffer pool(const constnet::buffer& X) {
    return constnet::model<Net>{}.forward(X);
}

int main() try {
    using constnet::format_tensor;
    fmt::print("== 6.5.1 Maximum and average pooling\n");
    auto X = constnet::make_tensor({1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
    fmt::print("pool2d(X, (2, 2), 'max') = {}\n", format_tensor(pool<d2l::max_pool_2>(X), 0, 0));
    fmt::print("pool2d(X, (2, 2), 'avg') = {}\n\n", format_tensor(pool<d2l::avg_pool_2>(X), 0, 0));

    fmt::print("== 6.5.2 Padding and stride\n");
    auto X16 = constnet::arange({1, 1, 4, 4});
    fmt::print("X = {}\n", format_tensor(X16, 0, 0));
    fmt::print("nn.MaxPool2d(3)(X) = {}\n", format_tensor(pool<d2l::max_pool_3>(X16), 0, 0));
    fmt::print("nn.MaxPool2d(3, padding=1, stride=2)(X) = {}\n",
               format_tensor(pool<d2l::max_pool_3_p1_s2>(X16), 0, 0));
    fmt::print("nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))(X) = {}\n\n",
               format_tensor(pool<d2l::max_pool_2x3>(X16), 0, 0));

    fmt::print("== 6.5.3 Multiple channels: X and X + 1\n");
    auto X2 = constnet::make_nchw(1, 2, 4, 4);
    X2.for_each_element([&](int x, int y, int c, int) { X2(x, y, c, 0) = X16(x, y, 0, 0) + c; });
    fmt::print("nn.MaxPool2d(3, padding=1, stride=2)(X) = {}\n",
               format_tensor(pool<d2l::max_pool_two_channels>(X2), 0));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
