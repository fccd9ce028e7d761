package migrate

const helperEnv = "MIGSAFE_MIGRATE_TEST_HELPER"

func helperMain() int { return 2 }
