// Harness sanity: the expected message, but two errors where one is expected;
// the harness must reject it (compile_fail.harness.rejects_error_cascade, WILL_FAIL).
// expect-error: harness sanity: the expected message
// expect-errors: 1
static_assert(sizeof(int) == 0, "harness sanity: the expected message");
static_assert(sizeof(char) == 0, "harness sanity: a second error");
