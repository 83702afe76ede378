/* vmailctl's subcommands, one file each. Each returns the process exit code:
 * 0 done, 1 usage, 100 refused, 111 temporary. argv[0] is the subcommand. */
#ifndef VMAILCTL_H
#define VMAILCTL_H

int ctl_queue(int argc, char const *const *argv);

#endif
