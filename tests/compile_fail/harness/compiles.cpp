// Harness sanity: compiles. Its expectation matches any output, so in fail
// mode only the exit code can make the harness reject it, and it must
// (compile_fail.harness.rejects_compiling_source, WILL_FAIL).
// expect-error: .*
constexpr int probe = 0;
static_assert(probe == 0);
