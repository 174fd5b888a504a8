/**
 * What a base image provides: the programs of the busybox image, so that every container target
 * (OCI images, Compose) can say, in one place and the same words, when a service's program is
 * not in the image it runs on.
 */
import type { Diagnostic } from "./contracts.js";
import type { EvaluatedDeployment, EvaluatedService } from "./deployment.js";
import { diagnostic } from "./helpers.js";
import { hasRefs } from "./refs.js";

/**
 * The applets of busybox (as `busybox --list` of Debian's busybox-static 1.35 prints them; the
 * `busybox` image links each one at `/bin/<name>`). A program outside this list is not in a
 * busybox-based image unless something puts it there.
 */
export const BUSYBOX_PROGRAMS: ReadonlySet<string> = new Set(
  (
    "[ [[ acpid adjtimex ar arch arp arping ascii ash awk base64 basename bc blkdiscard blockdev " +
    "brctl bunzip2 busybox bzcat bzip2 cal cat chgrp chmod chown chroot chvt clear cmp cp cpio " +
    "crc32 crond crontab cttyhack cut date dc dd deallocvt depmod devmem df diff dirname dmesg " +
    "dnsdomainname dos2unix dpkg dpkg-deb du dumpkmap dumpleases echo ed egrep env expand expr " +
    "factor fallocate false fatattr fdisk fgrep find findfs fold free freeramdisk fsfreeze fstrim " +
    "ftpget ftpput getopt getty grep groups gunzip gzip halt head hexdump hostid hostname httpd " +
    "hwclock i2cdetect i2cdump i2cget i2cset i2ctransfer id ifconfig ifdown ifup init insmod " +
    "ionice ip ipcalc ipneigh kill killall klogd last less link linux32 linux64 linuxrc ln " +
    "loadfont loadkmap logger login logname logread losetup ls lsmod lsscsi lzcat lzma lzop md5sum " +
    "mdev microcom mim mkdir mkdosfs mke2fs mkfifo mknod mkpasswd mkswap mktemp modinfo modprobe " +
    "more mount mt mv nameif nc netstat nl nologin nproc nsenter nslookup nuke od openvt " +
    "partprobe passwd paste patch pidof ping ping6 pivot_root poweroff printf ps pwd rdate " +
    "readlink realpath reboot renice reset resume rev rm rmdir rmmod route rpm rpm2cpio run-init " +
    "run-parts sed seq setkeycodes setpriv setsid sh sha1sum sha256sum sha3sum sha512sum shred " +
    "shuf sleep sort ssl_client start-stop-daemon stat strings stty su sulogin svc svok swapoff " +
    "swapon switch_root sync sysctl syslogd tac tail tar taskset tc tee telnet telnetd test tftp " +
    "time timeout top touch tr traceroute traceroute6 true truncate ts tty tunctl ubirename " +
    "udhcpc udhcpd uevent umount uname uncompress unexpand uniq unix2dos unlink unlzma unshare " +
    "unxz unzip uptime usleep uudecode uuencode vconfig vi w watch watchdog wc wget which who " +
    "whoami xargs xxd xz xzcat yes zcat"
  ).split(" "),
);

const BUSYBOX_IMAGE = /^(docker\.io\/)?(library\/)?busybox([:@]|$)/;

/**
 * A warning when the program `service` runs (`command[0]`) is not in `baseImage`: today known
 * for busybox images, whose programs are its applets. Nothing when the service brings its own
 * program (`package.image`, `package.nix`) or names it by path or through a reference: an
 * explicit path is taken as the user's knowledge of the image (a file, a volume or a derived
 * base image may put it there).
 */
export function programNotInImage(
  service: EvaluatedService,
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  baseImage: string,
): Diagnostic | undefined {
  const program = service.command[0];
  if (program === undefined || hasRefs(program)) return undefined;
  if (service.package.image !== null || service.package.nix !== null) return undefined;
  if (!BUSYBOX_IMAGE.test(baseImage)) return undefined;
  if (program.includes("/") || BUSYBOX_PROGRAMS.has(program)) return undefined;
  return diagnostic(deployment, {
    option: `services.${service.name}.command`,
    message: `\`${program}\` is not in the base image \`${baseImage}\` (busybox has only its applets, such as sh, wget and nc), so the container cannot start. Set \`package.image\` to an image that has it, a base image that has it (\`renderers.<target>.baseImage\`), or \`package.nix\`.`,
  });
}
