// d2l 6.6: LeNet on Fashion-MNIST, ahead-of-time compiled, trained with the
// generated train step.
//
//   lenet summary                 the layer table (the chapter's shapes)
//   lenet train [options]         d2l's recipe: sigmoid, average pooling, Xavier,
//                                 SGD lr 0.9, batch 256, 10 epochs; --recipe modern:
//                                 ReLU, max pooling, Adam lr 1e-3, batch 128
//   lenet eval --weights FILE     loss and accuracy on the test set
//   lenet infer --weights FILE    predictions for the first test images
#include "lenet_modern_net.constnet.hpp"
#include "lenet_net.constnet.hpp"

#include <constnet/fit.hpp>
#include <constnet/idx.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

struct options {
    std::string recipe = "d2l";
    std::string data = constnet::data::fashion_mnist_default_dir;
    int epochs = 10, batch = 0, limit = 0, count = 8, part = -1;
    float lr = 0;
    std::uint64_t seed = 0;
    std::string out = ".", checkpoint, weights, plot;
    bool resume = false, json = false, quiet = false;
};

template <const auto& Net>
int train(const options& o) {
    const bool d2l = o.recipe == "d2l";
    constnet::fit_options f;
    f.epochs = o.epochs;
    f.batch = o.batch ? o.batch : d2l ? 256 : 128;
    f.opt = d2l ? constnet::sgd(o.lr ? o.lr : 0.9f) : constnet::adam(o.lr ? o.lr : 1e-3f);
    f.seed = o.seed;
    f.checkpoint = o.checkpoint.empty() ? fmt::format("{}/lenet_{}.checkpoint.safetensors", o.out, o.recipe) : o.checkpoint;
    f.resume = o.resume;
    f.progress = !o.quiet && !o.json;

    auto train = constnet::to_dataset(constnet::data::load_fashion_mnist(o.data, "train"));
    auto test = constnet::to_dataset(constnet::data::load_fashion_mnist(o.data, "t10k"));
    if (o.limit) train = constnet::head(train, o.limit);

    constnet::model<Net> model;
    model.set_train_part(o.part);  // -1: the model's default
    model.init(o.seed, d2l ? constnet::init_kind::xavier_uniform : constnet::init_kind::kaiming_normal);
    if (!o.json)
        fmt::print("training LeNet ({} recipe) on {} images, {} epochs, batch {}, seed {}{}\n", o.recipe, train.count(),
                   f.epochs, f.batch, f.seed, f.resume ? fmt::format(", resuming from {}", f.checkpoint.string()) : "");
    auto history = constnet::fit(model, train, test, f, [&](const constnet::epoch_record& r) {
        if (!o.json)
            fmt::print("epoch {:>2}: loss {:.3f}, train acc {:.3f}, test acc {:.3f}, {:.1f} s ({:.0f} images/s)\n", r.epoch,
                       r.train_loss, r.train_accuracy, r.test_accuracy, r.seconds, r.images_per_second);
    });
    if (history.empty()) {
        fmt::print(stderr, "nothing to do: the checkpoint has {} epochs already\n", f.epochs);
        return 0;
    }
    const auto weights = o.weights.empty() ? fmt::format("{}/lenet_{}.safetensors", o.out, o.recipe) : o.weights;
    const auto plot = o.plot.empty() ? fmt::format("{}/lenet_{}.svg", o.out, o.recipe) : o.plot;
    model.save(weights);
    constnet::write_training_plot(plot, history, fmt::format("LeNet on Fashion-MNIST ({} recipe)", o.recipe));
    const auto& last = history.back();
    double seconds = 0, images = 0;
    for (const auto& r : history) seconds += r.seconds, images += r.images_per_second * r.seconds;
    if (o.json) {
        fmt::print("{{\"recipe\": \"{}\", \"seed\": {}, \"epochs\": {}, \"final_loss\": {:.6f}, \"train_acc\": {:.6f}, "
                   "\"test_acc\": {:.6f}, \"seconds_per_epoch\": {:.3f}, \"images_per_second\": {:.1f}, "
                   "\"history\": {}}}\n",
                   o.recipe, o.seed, last.epoch, last.train_loss, last.train_accuracy, last.test_accuracy,
                   seconds / history.size(), images / seconds, constnet::history_to_json(history));
    } else {
        fmt::print("loss {:.3f}, train acc {:.3f}, test acc {:.3f}\n{:.1f} examples/sec\n", last.train_loss,
                   last.train_accuracy, last.test_accuracy, images / seconds);
        fmt::print("weights: {}\nplot: {}\ncheckpoint: {}\n", weights, plot, f.checkpoint.string());
    }
    return 0;
}

template <const auto& Net>
int eval(const options& o) {
    constnet::model<Net> model;
    model.load(o.weights);
    auto test = constnet::to_dataset(constnet::data::load_fashion_mnist(o.data, "t10k"));
    auto r = constnet::evaluate_dataset(model, test);
    fmt::print("test loss {:.4f}, test acc {:.4f} ({} of {})\n", r.loss, double(r.correct) / test.count(), r.correct,
               test.count());
    return 0;
}

template <const auto& Net>
int infer(const options& o) {
    constnet::model<Net> model;
    model.load(o.weights);
    auto test = constnet::to_dataset(constnet::data::load_fashion_mnist(o.data, "t10k"));
    const int n = std::min(o.count, test.count());
    auto x = test.images.cropped(3, 0, n);
    auto logits = model.forward(x);
    const auto& names = constnet::data::fashion_mnist_text_labels();
    for (int s = 0; s < n; ++s) {
        int best = 0;
        for (int k = 1; k < 10; ++k)
            if (logits(k, s) > logits(best, s)) best = k;
        fmt::print("image {:>4}: predicted {:<11} label {:<11} {}\n", s, names[best], names[test.targets(s)],
                   best == test.targets(s) ? "" : "(wrong)");
    }
    return 0;
}

template <const auto& Net>
int run(const std::string& command, const options& o) {
    if (command == "summary") {
        fmt::print("{}", cn::summary(Net));
        return 0;
    }
    if (command == "train") return train<Net>(o);
    if (command == "eval") return eval<Net>(o);
    return infer<Net>(o);
}

int main(int argc, char** argv) try {
    CLI::App app{"LeNet on Fashion-MNIST (d2l 6.6), compiled ahead of time by constnet"};
    app.require_subcommand(1);
    options o;
    auto common = [&](CLI::App* c) {
        c->add_option("--recipe", o.recipe, "d2l (sigmoid, avg pool, SGD) or modern (ReLU, max pool, Adam)")
            ->check(CLI::IsMember({"d2l", "modern"}));
        c->add_option("--data", o.data, "Fashion-MNIST directory (IDX files, gzipped)");
    };
    auto* summary = app.add_subcommand("summary", "Print the layer table");
    common(summary);
    auto* tr = app.add_subcommand("train", "Train, printing one line per epoch; writes weights, a plot and checkpoints");
    common(tr);
    tr->add_option("--epochs", o.epochs, "Epochs (default 10)");
    tr->add_option("--batch", o.batch, "Batch size (default 256, modern 128)");
    tr->add_option("--lr", o.lr, "Learning rate (default 0.9, modern 1e-3)");
    tr->add_option("--seed", o.seed, "Seed of the initialization and the shuffling");
    tr->add_option("--limit", o.limit, "Train on the first N images only");
    tr->add_option("--part", o.part,
                   fmt::format("Images per call of the generated train step: a batch is split into parts (default {} "
                               "per thread; 0: the whole batch in one call)",
                               constnet::detail::train_part_images_default))
        ->check(CLI::NonNegativeNumber);
    tr->add_option("--out", o.out, "Directory for the weights, plot and checkpoint (default .)");
    tr->add_option("--checkpoint", o.checkpoint, "Checkpoint file, written after every epoch and on Ctrl-C");
    tr->add_flag("--resume", o.resume, "Continue from the checkpoint (an epoch's end or an interrupted batch)");
    tr->add_option("--weights", o.weights, "Where to save the final weights (safetensors)");
    tr->add_option("--plot", o.plot, "Where to draw the training curves (SVG)");
    tr->add_flag("--json", o.json, "Print only a JSON summary at the end");
    tr->add_flag("--quiet", o.quiet, "No progress bar");
    auto* ev = app.add_subcommand("eval", "Loss and accuracy of saved weights on the test set");
    common(ev);
    ev->add_option("--weights", o.weights, "Weights (safetensors)")->required();
    auto* in = app.add_subcommand("infer", "Predict the first test images with saved weights");
    common(in);
    in->add_option("--weights", o.weights, "Weights (safetensors)")->required();
    in->add_option("--count", o.count, "How many images (default 8)");
    CLI11_PARSE(app, argc, argv);

    const std::string command = app.get_subcommands().front()->get_name();
    return o.recipe == "d2l" ? run<lenet>(command, o) : run<lenet_modern>(command, o);
} catch (const constnet::interrupted& e) {
    fmt::print(stderr, "\n{}\n", e.what());
    return 130;  // the shell's code for a SIGINT exit
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
