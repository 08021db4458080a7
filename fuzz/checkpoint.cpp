// Fuzz target: the checkpoint loader, as fit(resume = true) uses it: the
// safetensors file, the parameter and optimizer-state tensors of a network,
// and the training metadata (step, epoch, position, history).
#include "checkpoint_net.hpp"
#include "fuzz_target.hpp"

#include <constnet/fit.hpp>
#include <constnet/model.hpp>

#include <vector>

namespace {
struct state {
    std::vector<constnet::parameter_info> infos = constnet::detail::parameters_of(constnet::fuzz::checkpoint_net.describe());
    std::vector<constnet::buffer> params, m, v;
    state() {
        for (const auto& p : infos) {
            std::vector<int> extents(p.shape.rbegin() + (4 - p.rank), p.shape.rend());
            for (auto* list : {&params, &m, &v}) list->emplace_back(extents);
        }
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static state s;
    return constnet::fuzz::run("checkpoint", data, size, [](const auto& path) {
        long step = 0;
        constnet::fit_options o;  // the options the seed corpus was written with
        o.seed = 1;
        o.batch = 4;
        std::vector<constnet::epoch_record> history;
        constnet::detail::load_checkpoint(path, "checkpoint_net", s.infos, s.params, s.m, s.v, step,
                                          [&](const auto& meta) { constnet::detail::resume_point(meta, o, path, history); });
    });
}
