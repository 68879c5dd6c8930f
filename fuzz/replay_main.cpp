// A fuzz target without libFuzzer: runs its LLVMFuzzerTestOneInput on every
// file under the directories given, in name order. The unit suite builds one
// replay_<target> per fuzz/fuzz_<target>.cpp (fuzz/replay.cmake), so every
// seed, including the regression seed of every finding, is replayed on every
// build with whatever compiler the tests use. scripts/fuzz.sh does the
// fuzzing proper.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    std::size_t inputs = 0;
    for (int i = 1; i < argc; ++i) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::recursive_directory_iterator(argv[i]))
            if (entry.is_regular_file()) files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& file : files) {
            std::ifstream in(file, std::ios::binary);
            const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (!in.eof() && in.fail()) {
                std::cerr << "replay: cannot read " << file << "\n";
                return 1;
            }
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            ++inputs;
        }
    }
    if (inputs == 0) {
        std::cerr << "replay: expected seed files under the directories given, found none\n";
        return 1;
    }
    std::cout << "replayed " << inputs << " inputs\n";
    return 0;
}
