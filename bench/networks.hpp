// The single layers of the benchmark suite (issue 3's cases), each a network
// of its own; LeNet comes from examples/lenet.hpp.
#pragma once

#include <constnet/dsl.hpp>

#include "../examples/lenet.hpp"

namespace bench {
namespace cn = constnet::dsl;

inline constexpr auto lenet_conv1 = cn::input<1, 28, 28> | cn::conv2d<6, 5>(cn::padding<2>);
inline constexpr auto lenet_conv2 = cn::input<6, 14, 14> | cn::conv2d<16, 5>;
inline constexpr auto conv3x3_64 = cn::input<64, 56, 56> | cn::conv2d<64, 3>(cn::padding<1>);
inline constexpr auto conv3x3_128 = cn::input<128, 28, 28> | cn::conv2d<128, 3>(cn::padding<1>);
inline constexpr auto conv3x3_256 = cn::input<256, 14, 14> | cn::conv2d<256, 3>(cn::padding<1>);
inline constexpr auto conv3x3_512 = cn::input<512, 7, 7> | cn::conv2d<512, 3>(cn::padding<1>);
inline constexpr auto conv1x1_256_64 = cn::input<256, 56, 56> | cn::conv2d<64, 1>;
inline constexpr auto max_pool_3s2p1 = cn::input<64, 112, 112> | cn::max_pool<3>(cn::stride<2>, cn::padding<1>);
inline constexpr auto avg_pool_2s2 = cn::input<64, 112, 112> | cn::avg_pool<2>(cn::stride<2>);

// Further shapes, beyond the cases (ResNet's and VGG's layers and
// odd sizes).
inline constexpr auto conv3x3_s2_64_128 = cn::input<64, 56, 56> | cn::conv2d<128, 3>(cn::stride<2>, cn::padding<1>);
inline constexpr auto conv1x1_64_256 = cn::input<64, 56, 56> | cn::conv2d<256, 1>;
inline constexpr auto conv1x1_s2_256_512 = cn::input<256, 56, 56> | cn::conv2d<512, 1>(cn::stride<2>);
inline constexpr auto conv5x5_32_64 = cn::input<32, 28, 28> | cn::conv2d<64, 5>(cn::padding<2>);
inline constexpr auto conv3x3_3_32 = cn::input<3, 32, 32> | cn::conv2d<32, 3>(cn::padding<1>);
inline constexpr auto conv3x3_96 = cn::input<96, 27, 27> | cn::conv2d<96, 3>(cn::padding<1>);
inline constexpr auto conv7x7_s2_3_64 = cn::input<3, 224, 224> | cn::conv2d<64, 7>(cn::stride<2>, cn::padding<3>);

// The same networks once more, as objects of their own compiled with Halide's
// autoschedulers instead of constnet's schedules (bench/CMakeLists.txt):
// <layer>_auto by Mullapudi2016, <layer>_li2018 by Li2018.
#define CONSTNET_BENCH_TWINS(layer, net)          \
    inline constexpr auto layer##_auto = net;     \
    inline constexpr auto layer##_li2018 = net;
CONSTNET_BENCH_TWINS(lenet, ::lenet)
CONSTNET_BENCH_TWINS(lenet_conv1, lenet_conv1)
CONSTNET_BENCH_TWINS(lenet_conv2, lenet_conv2)
CONSTNET_BENCH_TWINS(conv3x3_64, conv3x3_64)
CONSTNET_BENCH_TWINS(conv3x3_128, conv3x3_128)
CONSTNET_BENCH_TWINS(conv3x3_256, conv3x3_256)
CONSTNET_BENCH_TWINS(conv3x3_512, conv3x3_512)
CONSTNET_BENCH_TWINS(conv1x1_256_64, conv1x1_256_64)
CONSTNET_BENCH_TWINS(max_pool_3s2p1, max_pool_3s2p1)
CONSTNET_BENCH_TWINS(avg_pool_2s2, avg_pool_2s2)
#undef CONSTNET_BENCH_TWINS

}  // namespace bench
