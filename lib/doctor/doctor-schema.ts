/** The JSON schema `watchdog doctor --json` writes; versioned so automation can tell a change. */
export const DOCTOR_SCHEMA = "secret-watchdog.doctor/v1";
