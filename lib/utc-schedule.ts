/**
 * croner's option for reading a schedule in UTC, as the hosts run NCRONTAB timers.
 *
 * `utcOffset: 0` rather than `timezone: "UTC"`: the runs are the same, but with a time zone croner
 * reads every date through Intl.DateTimeFormat, whose first use loads ICU's time-zone data: about
 * 28 ms of the first schedule a process reads (2026-12-02), and the Function App's cold start reads
 * both (its app settings set them). croner 11 takes a numeric offset as UTC arithmetic, no Intl.
 */
export const IN_UTC = { utcOffset: 0 } as const;
