// Harness sanity: fails, but with another message than the expected one; the
// harness must reject it (compile_fail.harness.rejects_wrong_message, WILL_FAIL).
// expect-error: harness sanity: the expected message
static_assert(sizeof(int) == 0, "harness sanity: some other message");
