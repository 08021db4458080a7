// oneDNN (Debian's libdnnl 2.6) versions of the benchmark cases, built from the
// same graph description and the same weights as constnet's: either in plain
// NCHW, or in the layouts oneDNN prefers ("any"), with the input's reorder
// done once, outside the timed call.
#pragma once

#include <constnet/graph.hpp>
#include <constnet/tensor.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bench {

class onednn_net {
public:
    // nodes: a chain of conv2d / pools / sigmoid / relu / flatten / dense, as
    // the DSL describes it; params: constnet's parameter buffers (PyTorch
    // layout); activations are fused into the preceding conv/dense as post-ops.
    onednn_net(std::span<const constnet::layer_desc> nodes, std::span<const constnet::buffer> params, int batch,
               bool plain_layout);
    ~onednn_net();
    onednn_net(const onednn_net&) = delete;
    onednn_net& operator=(const onednn_net&) = delete;

    void set_input(const constnet::buffer& nchw);  // copies and reorders (untimed)
    void run();                                   // the timed part
    std::vector<float> output() const;            // plain layout, reordered (untimed)
    std::string implementation() const;           // oneDNN's kernel names, e.g. "brgconv:avx2"

private:
    struct impl;
    std::unique_ptr<impl> p_;
};

// Sets oneDNN's (OpenMP) thread count.
void onednn_set_threads(int threads);

}  // namespace bench
