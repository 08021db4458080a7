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
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace st = constnet::safetensors;
namespace cg = constnet::codegen;
using constnet::layer_desc;
using constnet::op;
using constnet::tensor_shape;

op op_from_name(const std::string& name) {
    static const std::map<std::string, op> ops{
        {"conv2d", op::conv2d}, {"max_pool", op::max_pool}, {"avg_pool", op::avg_pool},
        {"relu", op::relu},     {"sigmoid", op::sigmoid},   {"tanh", op::tanh},
        {"flatten", op::flatten}, {"dense", op::dense},     {"softmax", op::softmax},
    };
    const auto it = ops.find(name);
    if (it == ops.end()) throw std::runtime_error(fmt::format("unknown layer kind '{}'", name));
    return it->second;
}

// "C,H,W" or "F".
tensor_shape shape_from_text(const std::string& text) {
    std::vector<int> dims;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        dims.push_back(std::stoi(text.substr(start, end - start)));
        start = end + 1;
    }
    if (dims.size() == 3) return constnet::make_shape(dims[0], dims[1], dims[2]);
    if (dims.size() == 1) return constnet::make_shape(dims[0]);
    throw std::runtime_error(fmt::format("input shape '{}' is neither C,H,W nor F", text));
}

// The description: an input node, then one node per nn.Sequential module,
// each fed by the one before; shapes from constnet::infer_shapes.
std::vector<layer_desc> description_from(const st::file& f) {
    std::vector<layer_desc> nodes(1);
    nodes[0].kind = op::input;
    nodes[0].out = shape_from_text(f.metadata.at("input"));
    for (const auto& l : nlohmann::json::parse(f.metadata.at("layers"))) {
        layer_desc d;
        d.kind = op_from_name(l.at("kind").get<std::string>());
        d.units = l.at("out").get<int>();
        d.kh = l.at("kh").get<int>(), d.kw = l.at("kw").get<int>();
        d.sh = l.at("sh").get<int>(), d.sw = l.at("sw").get<int>();
        d.pad_top = l.at("pt").get<int>(), d.pad_bottom = l.at("pb").get<int>();
        d.pad_left = l.at("pl").get<int>(), d.pad_right = l.at("pr").get<int>();
        d.bias = l.at("bias").get<bool>();
        d.count_include_pad = l.at("count_include_pad").get<bool>();
        d = constnet::infer_shapes(d, nodes.back().out);
        d.inputs = {static_cast<int>(nodes.size()) - 1, -1};
        nodes.push_back(d);
    }
    return nodes;
}

std::string shape_text(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// A PyTorch-layout tensor as a Halide buffer over the same memory: extents
// reversed (innermost first), after checking the shape is the expected one.
Halide::Buffer<float> as_buffer(st::tensor& t, const std::vector<std::int64_t>& expected_shape, const std::string& name) {
    INFO(name << ": expected shape " << shape_text(expected_shape) << ", file has " << shape_text(t.shape));
    REQUIRE(t.shape == expected_shape);
    std::vector<int> extents(t.shape.rbegin(), t.shape.rend());
    return Halide::Buffer<float>(t.data.data(), extents);
}

std::vector<std::int64_t> pytorch_shape(const tensor_shape& s, std::int64_t batch) {
    if (s.rank == 3) return {batch, s.c(), s.h(), s.w()};
    return {batch, s.features()};
}

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
    Halide::Buffer<float> got = p.output.realize(extents);
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
    REQUIRE(fs::is_directory(dir));
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".safetensors") cases.push_back(entry.path());
    std::sort(cases.begin(), cases.end());
    // No cases means the generator did not run or wrote nothing: that is a failure, not a pass.
    REQUIRE(!cases.empty());
    for (const fs::path& path : cases) check_case(path);
    WARN(cases.size() << " PyTorch cases compared");
}

}  // namespace
