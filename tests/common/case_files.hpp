// Reading the PyTorch case files that tests/parity/make_layer_cases.py and
// tests/gradients/make_gradient_cases.py write (one safetensors file per
// case, layer configs as JSON metadata): the constnet description they
// stand for, and their tensors as Halide buffers. Shared by
// test_parity_layers.cpp and test_gradients.cpp.
#pragma once

#include <constnet/graph.hpp>
#include <constnet/safetensors.hpp>

#include <Halide.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace constnet::test {

namespace fs = std::filesystem;
namespace st = constnet::safetensors;

inline op op_from_name(const std::string& name) {
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
inline tensor_shape shape_from_text(const std::string& text) {
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
inline std::vector<layer_desc> description_from(const st::file& f) {
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

inline std::string shape_text(const std::vector<std::int64_t>& s) {
    return fmt::format("[{}]", fmt::join(s, ", "));
}

// A PyTorch-layout tensor as a Halide buffer over the same memory: extents
// reversed (innermost first), after checking the shape is the expected one.
inline Halide::Buffer<float> as_buffer(st::tensor& t, const std::vector<std::int64_t>& expected_shape,
                                       const std::string& name) {
    INFO(name << ": expected shape " << shape_text(expected_shape) << ", file has " << shape_text(t.shape));
    REQUIRE(t.shape == expected_shape);
    std::vector<int> extents(t.shape.rbegin(), t.shape.rend());
    return Halide::Buffer<float>(t.data.data(), extents);
}

inline std::vector<std::int64_t> pytorch_shape(const tensor_shape& s, std::int64_t batch) {
    if (s.rank == 3) return {batch, s.c(), s.h(), s.w()};
    return {batch, s.features()};
}

// The .safetensors files in `dir` (which must be a directory), sorted. The
// caller reads `dir` from its environment variable and says which one in an
// INFO, so that message covers the checks here.
inline std::vector<fs::path> case_files_in(const char* dir) {
    REQUIRE(fs::is_directory(dir));
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".safetensors") cases.push_back(entry.path());
    std::sort(cases.begin(), cases.end());
    return cases;
}

}  // namespace constnet::test
