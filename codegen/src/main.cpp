// constnet-codegen: the build-time compiler. Lowers a registered network to a
// Halide pipeline and writes a static library and C header for one target
// (or several, dispatched at run time), or writes the one shared Halide runtime. Optionally dumps every stage.
#include <constnet/codegen/lower.hpp>
#include <constnet/codegen/train.hpp>
#include <constnet/codegen/registry.hpp>
#include <constnet/dsl/summary.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <fstream>

namespace constnet::codegen {
std::vector<registered_network>& registry() {
    static std::vector<registered_network> networks;
    return networks;
}
}  // namespace constnet::codegen

namespace {

namespace fs = std::filesystem;
using constnet::codegen::registry;

const constnet::codegen::registered_network& find_network(const std::string& name) {
    for (const auto& r : registry())
        if (r.name == name) return r;
    std::string known;
    for (const auto& r : registry()) known += " " + r.name;
    throw std::invalid_argument(fmt::format("no network named '{}' is registered (registered:{})", name, known));
}

std::map<Halide::OutputFileType, std::string> outputs_for(const std::string& base, bool dump) {
    std::map<Halide::OutputFileType, std::string> outputs{
        {Halide::OutputFileType::static_library, base + ".a"},
        {Halide::OutputFileType::c_header, base + ".h"},
    };
    if (dump) {
        outputs[Halide::OutputFileType::stmt] = base + ".stmt";
        outputs[Halide::OutputFileType::stmt_html] = base + ".stmt.html";
        outputs[Halide::OutputFileType::assembly] = base + ".s";
    }
    return outputs;
}

struct training_request {
    std::string loss;  // empty: no training functions
    std::string train_function, eval_function;
};

// "host-no_runtime" or a list "x86-64-linux-avx512-no_runtime,x86-64-linux-avx2-no_runtime,...":
// several targets make one library that picks the first the CPU can run at
// each call (Halide's multi-target dispatch); the last must run anywhere.
std::vector<Halide::Target> parse_targets(const std::string& list) {
    std::vector<Halide::Target> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto end = std::min(list.find(',', start), list.size());
        out.push_back(constnet::codegen::parse_target(list.substr(start, end - start)));
        start = end + 1;
    }
    return out;
}

// Compiles one pipeline, built per target by `make`, to <base>.a/.h (and the
// dump files for the first target when asked).
using pipeline_factory = std::function<std::pair<Halide::Pipeline, std::vector<Halide::Argument>>(const Halide::Target&)>;
void compile_pipeline(const std::string& base, const std::string& function, const std::vector<Halide::Target>& targets,
                      bool dump, const pipeline_factory& make) {
    if (targets.size() == 1) {
        auto [pipeline, args] = make(targets[0]);
        pipeline.compile_to(outputs_for(base, dump), args, function, targets[0]);
        return;
    }
    std::vector<std::string> suffixes;
    for (std::size_t k = 0; k < targets.size(); ++k) suffixes.push_back(fmt::format("_v{}", k));
    Halide::compile_multitarget(function, outputs_for(base, false), targets, suffixes,
                                [&](const std::string& fn, const Halide::Target& t) {
                                    auto [pipeline, args] = make(t);
                                    return pipeline.compile_to_module(args, fn, t);
                                });
    if (dump) {  // what the first (preferred) variant looks like
        auto [pipeline, args] = make(targets[0]);
        auto outputs = outputs_for(base + ".first_target", true);
        outputs.erase(Halide::OutputFileType::static_library);
        outputs.erase(Halide::OutputFileType::c_header);
        pipeline.compile_to(outputs, args, function, targets[0]);
        for (const char* ext : {".stmt", ".stmt.html", ".s"})
            fs::rename(base + ".first_target" + ext, base + ext);
    }
}

// Writes <function>.a/.h (the forward pass) and, with training, also the
// train step and eval functions and <function>_batched (the forward pass for
// batches, see lower_forward_batched), each with its own library and header.
void compile_network(const std::string& name, const std::string& function, const std::string& target_list,
                     const fs::path& dir, bool dump, const training_request& training,
                     const std::string& autoscheduler) {
    const auto& net = find_network(name);
    const auto targets = parse_targets(target_list);
    fs::create_directories(dir);
    const std::string base = (dir / function).string();
    if (dump) {
        std::string names;
        for (const auto& t : targets) names += (names.empty() ? "" : ", ") + t.to_string();
        std::ofstream(base + ".summary.txt") << constnet::summary(net.nodes) << fmt::format("Halide target: {}\n", names);
    }
    compile_pipeline(base, function, targets, dump, [&](const Halide::Target& t) {
        // constnet::model passes the weights output-major (prepared when they change).
        auto p = constnet::codegen::lower_forward(
            net.nodes, {.target = t, .weights_output_major = true, .autoscheduler = autoscheduler});
        return std::pair{p.pipeline(), p.arguments()};
    });
    if (training.loss.empty()) return;
    const auto loss = training.loss == "squared_error" ? constnet::codegen::loss_kind::squared_error
                                                       : constnet::codegen::loss_kind::cross_entropy;
    compile_pipeline((dir / training.train_function).string(), training.train_function, targets, dump,
                     [&](const Halide::Target& t) {
                         auto p = constnet::codegen::lower_train(net.nodes, loss, {.target = t});
                         return std::pair{Halide::Pipeline(p.outputs), p.arguments()};
                     });
    compile_pipeline((dir / training.eval_function).string(), training.eval_function, targets, dump,
                     [&](const Halide::Target& t) {
                         auto p = constnet::codegen::lower_eval(net.nodes, loss, {.target = t});
                         return std::pair{Halide::Pipeline(p.outputs), p.arguments()};
                     });
    // The forward pass for batches with the train step's forward schedules
    // (constnet::model picks it for batches of a vector of images or more).
    compile_pipeline(base + "_batched", function + "_batched", targets, dump, [&](const Halide::Target& t) {
        auto p = constnet::codegen::lower_forward_batched(net.nodes, {.target = t});
        return std::pair{p.pipeline(), p.arguments()};
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"constnet-codegen: compiles constnet networks to static libraries with Halide"};
    app.require_subcommand(1);

    auto* list = app.add_subcommand("list", "Print the registered networks and their summaries");

    std::string name, function, target = "host", out_dir = ".", autoscheduler;
    bool dump = false;
    auto* net = app.add_subcommand("network", "Compile one network to <function>.a and <function>.h");
    net->add_option("name", name, "Registered network name")->required();
    net->add_option("--function", function, "Name of the generated function (default: <name>_forward)");
    net->add_option("--target", target,
                    "Halide target, e.g. host-no_runtime, or a comma-separated list for run-time dispatch "
                    "(the last one the fallback)");
    net->add_option("--out-dir", out_dir, "Output directory");
    net->add_flag("--dump", dump, "Also write .stmt, .stmt.html, .s and .summary.txt");
    net->add_option("--autoscheduler", autoscheduler,
                    "Schedule the forward pass with this Halide autoscheduler instead (for comparison; Adams2019 "
                    "can take minutes and gigabytes per conv)")
        ->check(CLI::IsMember(constnet::codegen::autoschedulers()));
    training_request training;
    net->add_option("--training", training.loss, "Also emit a train step and an eval function for this loss")
        ->check(CLI::IsMember({"cross_entropy", "squared_error"}));
    net->add_option("--train-function", training.train_function, "Name of the train step (default <name>_train)");
    net->add_option("--eval-function", training.eval_function, "Name of the eval function (default <name>_eval)");

    std::string rt_target = "host", rt_output;
    auto* rt = app.add_subcommand("runtime", "Write the Halide runtime shared by all networks of a program");
    rt->add_option("--target", rt_target, "Halide target");
    rt->add_option("--output", rt_output, "Output static library path")->required();

    CLI11_PARSE(app, argc, argv);
    try {
        if (*list) {
            for (const auto& r : registry()) fmt::print("{}\n{}\n", r.name, constnet::summary(r.nodes));
        } else if (*net) {
            if (training.train_function.empty()) training.train_function = name + "_train";
            if (training.eval_function.empty()) training.eval_function = name + "_eval";
            compile_network(name, function.empty() ? name + "_forward" : function, target, out_dir, dump, training,
                            autoscheduler);
        } else if (*rt) {
            Halide::compile_standalone_runtime(rt_output, constnet::codegen::parse_target(rt_target));
        }
    } catch (const Halide::CompileError& e) {
        fmt::print(stderr, "constnet-codegen: Halide compile error: {}\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "constnet-codegen: {}\n", e.what());
        return 1;
    }
    return 0;
}
