/* Report reasons by name. */
#include <stddef.h>
#include <string.h>

#include "ward/safety.h"
#include "ward/store.h"

static const struct {
    const char *name;
    int reason;
} reasons[] = {
    {"child_sexual_exploitation", WARD_REASON_CSE},
    {"grooming", WARD_REASON_GROOMING},
    {"sexual_harassment", WARD_REASON_SEXUAL_HARASSMENT},
    {"other_harassment", WARD_REASON_HARASSMENT},
    {"spam", WARD_REASON_SPAM},
    {"other", WARD_REASON_OTHER},
};

int ward_report_reason_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(name, reasons[i].name) == 0)
            return reasons[i].reason;
    return 0;
}

const char *ward_report_reason_name(int reason)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].reason == reason)
            return reasons[i].name;
    return "unknown";
}
