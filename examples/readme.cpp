// The README's example, compiled as written (examples/CMakeLists.txt builds it).
#include "lenet_net.constnet.hpp"                  // generated: binds `lenet` to its compiled code

#include <fmt/core.h>

int main() {
    constnet::model<lenet> model;                      // parameters with compile-time shapes
    model.init(42);                                    // Xavier-uniform; or model.load("lenet.safetensors")
    constnet::buffer images = model.make_input(256);   // Halide::Runtime::Buffer<float>, (28, 28, 1, 256)
    constnet::buffer logits = model.forward(images);   // (10, 256)
    fmt::print("logits: {} x {}\n", logits.dim(1).extent(), logits.dim(0).extent());
}
