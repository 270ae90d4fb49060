/* hostflowd --import hsflowd|pmacctd FILE: the shell around config/import.h
 * (the files read, libpcap asked about filters, the result printed). */
#ifndef HF_IMPORTCMD_H
#define HF_IMPORTCMD_H

#include <stdio.h>

/* args: what follows --import. Prints the hostflowd.conf on out; returns
 * the exit status: 0, 1 for a bad or unreadable source or bad arguments
 * (as for a bad configuration, the message on errf), 2 when out fails. */
int importcmd_main(int argc, char **args, FILE *out, FILE *errf);

#endif
