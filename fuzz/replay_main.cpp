// Runs a fuzz target over files, without libFuzzer: how the seed corpora and
// every input that once crashed a loader (fuzz/regressions/) are replayed by
// the test suite, in normal and sanitizer builds.
//   fuzz_replay_<target> FILE_OR_DIR...
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

static int replay(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.eof() && in.fail()) {
        std::fprintf(stderr, "cannot read %s\n", p.c_str());
        return 1;
    }
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    return 0;
}

int main(int argc, char** argv) {
    long files = 0;
    int failures = 0;
    for (int k = 1; k < argc; ++k) {
        const fs::path arg = argv[k];
        if (fs::is_directory(arg)) {
            for (const auto& e : fs::recursive_directory_iterator(arg))
                if (e.is_regular_file()) failures += replay(e.path()), ++files;
        } else {
            failures += replay(arg), ++files;
        }
    }
    std::printf("replayed %ld inputs\n", files);
    return failures || files == 0 ? 1 : 0;
}
