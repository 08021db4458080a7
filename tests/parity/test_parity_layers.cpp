// PyTorch parity for single layers and small chains. make_layer_cases.py
// (run by the ctest fixture parity_layer_cases with Debian's python3-torch)
// writes one safetensors file per case into the directory named by
// CONSTNET_PARITY_CASE_DIR; each holds the input, the nn.Sequential
// parameters, the output PyTorch computed ("expected": where the expected
// values come from) and the layer configs as JSON metadata. Here each case's
// description is rebuilt from that metadata, JIT-compiled with
// codegen::lower_forward and run on the same input and parameters.
//
// Tolerance: |got - expected| <= 1e-5 + 1e-5 * |expected| per element.
#include <constnet/codegen/lower.hpp>
#include <constnet/graph.hpp>
#include <constnet/safetensors.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "case_files.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace {

namespace cg = constnet::codegen;
using constnet::layer_desc;
using namespace constnet::test;  // fs, st (constnet::safetensors) and the case-file helpers

void check_case(const fs::path& path) {
    INFO("case file " << path.string());
    st::file f = st::read(path);
    REQUIRE(f.metadata.count("layers") == 1);
    REQUIRE(f.metadata.count("input") == 1);
    INFO("layers " << f.metadata.at("layers"));
    const std::vector<layer_desc> nodes = description_from(f);

    cg::forward_pipeline p = cg::lower_forward(nodes);
    REQUIRE(f.tensors.count("input") == 1);
    REQUIRE(f.tensors.count("expected") == 1);
    st::tensor& input = f.tensors.at("input");
    REQUIRE(!input.shape.empty());
    const std::int64_t batch = input.shape[0];
    p.input.set(as_buffer(input, pytorch_shape(nodes[0].out, batch), "input"));

    // Parameters in node order, weight then bias, named as nn.Sequential's
    // state_dict names them (module index = node index - 1).
    std::size_t next = 0;
    for (int idx = 1; idx < static_cast<int>(nodes.size()); ++idx) {
        const layer_desc& d = nodes[idx];
        if (!d.has_params()) continue;
        const int mod = constnet::module_index(idx);
        const auto ws = d.weight_shape();
        std::vector<std::int64_t> wshape(ws.begin(), ws.begin() + d.weight_rank());
        const std::string wname = fmt::format("{}.weight", mod), bname = fmt::format("{}.bias", mod);
        REQUIRE(f.tensors.count(wname) == 1);
        REQUIRE(next < p.params.size());
        p.params[next++].set(as_buffer(f.tensors.at(wname), wshape, wname));
        REQUIRE(f.tensors.count(bname) == (d.bias ? 1u : 0u));
        if (d.bias) {
            REQUIRE(next < p.params.size());
            p.params[next++].set(as_buffer(f.tensors.at(bname), {d.units}, bname));
        }
    }
    REQUIRE(next == p.params.size());

    const st::tensor& expected = f.tensors.at("expected");
    const auto out_shape = pytorch_shape(nodes.back().out, batch);
    INFO("expected: " << shape_text(expected.shape) << ", description's output: " << shape_text(out_shape));
    REQUIRE(expected.shape == out_shape);
    std::vector<int> extents(out_shape.rbegin(), out_shape.rend());
    Halide::Buffer<float> got = p.output.realize(extents, constnet::codegen::host_target());
    REQUIRE(static_cast<std::size_t>(got.number_of_elements()) == expected.data.size());

    // Worst element relative to the tolerance (NaN counts as infinitely bad).
    double worst = 0.0, worst_abs = 0.0;
    std::size_t at = 0;
    for (std::size_t e = 0; e < expected.data.size(); ++e) {
        const double d = std::fabs(double(got.data()[e]) - double(expected.data[e]));
        double excess = d / (1e-5 + 1e-5 * std::fabs(double(expected.data[e])));
        if (std::isnan(excess)) excess = std::numeric_limits<double>::infinity();
        if (e == 0 || excess > worst) worst = excess, worst_abs = d, at = e;
    }
    INFO(fmt::format("worst error {:.3g} at flat index {} (NCHW order): PyTorch {:.9g}, constnet {:.9g} ({:.3g} x "
                     "tolerance)",
                     worst_abs, at, expected.data[at], got.data()[at], worst));
    CHECK(worst <= 1.0);
}

TEST_CASE("generated layers match PyTorch on every case file", "[parity]") {
    const char* dir = std::getenv("CONSTNET_PARITY_CASE_DIR");
    INFO("CONSTNET_PARITY_CASE_DIR is " << (dir ? dir : "unset") << "; make_layer_cases.py writes the cases");
    REQUIRE(dir != nullptr);
    const std::vector<fs::path> cases = case_files_in(dir);
    // No cases means the generator did not run or wrote nothing: that is a failure, not a pass.
    REQUIRE(!cases.empty());
    for (const fs::path& path : cases) check_case(path);
    WARN(cases.size() << " PyTorch cases compared");
}

}  // namespace
