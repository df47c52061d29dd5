/* ward: one binary, git-style subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "ward/crypto.h"

#ifndef WARD_VERSION
#define WARD_VERSION "unknown"
#endif

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const cli_command commands[] = {
    {"demo", "two parties exchange end-to-end encrypted messages",
     "usage: ward demo [--messages N]\n"
     "\n"
     "Runs alice and bob in one process: bob publishes a prekey bundle, alice\n"
     "starts a Signal-protocol session from it, and they exchange messages.\n"
     "For each message it prints what a relaying server would see (message\n"
     "type, size, ratchet counter) beside what the recipient reads.\n"
     "\n"
     "  --messages N   messages to exchange, alternating direction (default 6)\n",
     cli_demo},
    {"account", "register, log in, log out or delete an account",
     "usage: ward account register NAME --birth-date YYYY-MM-DD\n"
     "       ward account login|logout|delete NAME\n"
     "\n"
     "  --birth-date D     your birth date; the server keeps only the age\n"
     "                     band (13-17 or 18+), and refuses under 13\n"
     "  --password-stdin   read the password from standard input (one line)\n"
     "                     instead of asking on the terminal\n"
     "  --server URL       the server (default $WARD_SERVER, else\n"
     "                     http://127.0.0.1:8080)\n"
     "\n"
     "Registering logs in and publishes this device's new keys. The keys and\n"
     "the login token live in $XDG_DATA_HOME/ward/SERVER/NAME/state.db (0600).\n",
     cli_account},
    {"send", "send an end-to-end encrypted message or image",
     "usage: ward send USER TEXT [--user NAME] [--server URL]\n"
     "       ward send USER --image FILE [CAPTION]\n"
     "       ward send --group GROUP TEXT\n"
     "       ward send --group GROUP --image FILE [CAPTION]\n"
     "\n"
     "Encrypts TEXT for USER (starting a session from their published keys\n"
     "the first time) and hands the ciphertext to the server. --user, or\n"
     "$WARD_USER, names your own account.\n"
     "\n"
     "With --image, FILE (JPEG, PNG, GIF, WebP or BMP) is encrypted with a\n"
     "fresh key as it is uploaded; the message carries the server's id for\n"
     "it, the key and the image's SHA-256, so the server never sees the\n"
     "image and the recipient can tell whether it arrived intact. To a\n"
     "group it is uploaded once, and the key goes to every member inside\n"
     "the group message.\n"
     "\n"
     "With --group, TEXT goes to every member of GROUP (its name, or its id\n"
     "from 'ward group ls'), encrypted once with your sender key for the\n"
     "group, which each member is handed in a one-to-one message first. If\n"
     "someone left or was removed since your key was made, a new one is made\n"
     "and handed to the remaining members only. The safety rules keep your\n"
     "group messages, and your key, from some members (a block either way;\n"
     "an adult's messages from a minor who does not follow them): you are\n"
     "told how many and who, and they get none of them.\n",
     cli_send},
    {"recv", "receive, decrypt and show messages",
     "usage: ward recv [--follow] [--save-dir DIR] [--user NAME] "
     "[--server URL]\n"
     "\n"
     "Fetches the messages queued for you, decrypts each, checks its franking\n"
     "commitment, shows it once, and tells the server to delete it. A message\n"
     "from someone whose identity key changed is kept until you trust it.\n"
     "Images are downloaded, decrypted and kept only if their SHA-256 is\n"
     "the one the sender committed to.\n"
     "\n"
     "Group messages show as [ID] FROM in \"GROUP\": TEXT, and changes to a\n"
     "group (who added or removed whom, who left) as [ID] \"GROUP\": WHAT.\n"
     "A group message whose sender's key has not arrived yet is kept, and\n"
     "shown once the key comes.\n"
     "\n"
     "  -f, --follow       stay connected (WebSocket) and show messages as\n"
     "                     they arrive, reconnecting when the connection\n"
     "                     drops; ^C stops\n"
     "  --save-dir DIR     where images are saved (default: 'attachments'\n"
     "                     beside the state file)\n",
     cli_recv},
    {"chat", "chat with someone, or in a group: messages appear as they "
             "arrive",
     "usage: ward chat USER [--save-dir DIR] [--user NAME] [--server URL]\n"
     "       ward chat --group GROUP [--save-dir DIR] [--user NAME]\n"
     "\n"
     "An interactive, end-to-end encrypted conversation with USER over a\n"
     "live connection: type a line and press Enter to send it; what arrives\n"
     "is shown above the line you are typing. /image FILE [CAPTION] sends\n"
     "an image, /quit or ^D leaves. It reconnects by itself when the\n"
     "connection drops, and nothing is shown twice.\n"
     "\n"
     "With --group, each line goes to the group GROUP (its name or id), as\n"
     "'ward send --group' sends it (images cannot be sent to a group yet).\n"
     "\n"
     "Not on a terminal (a pipe), each input line is sent as a message and\n"
     "chat exits at the end of input once the server has confirmed every\n"
     "one (exit 1 if any was refused or unconfirmed); received messages go\n"
     "to standard output, status lines to standard error.\n",
     cli_chat},
    {"group",
     "end-to-end encrypted groups: create, add, remove, leave, avatar, ls",
     "usage: ward group create NAME [--description TEXT] [--member USER]...\n"
     "       ward group add GROUP USER\n"
     "       ward group remove GROUP USER\n"
     "       ward group leave GROUP [--block]\n"
     "       ward group role GROUP USER admin|member\n"
     "       ward group avatar GROUP FILE | --remove | --save FILE\n"
     "       ward group ls [GROUP]\n"
     "       (each also takes --user NAME and --server URL)\n"
     "\n"
     "Groups are end-to-end encrypted: the server knows a group's name,\n"
     "description and members (it delivers each message to them), never\n"
     "what is said. GROUP is a group's name, or its id (the number 'ward\n"
     "group ls' shows), needed when two of your groups have the same name.\n"
     "Send with 'ward send --group GROUP TEXT' or 'ward chat --group GROUP';\n"
     "'ward recv' shows group messages with the group's name.\n"
     "\n"
     "  create NAME        a new group (1 to 64 characters) with you as its\n"
     "                     admin\n"
     "  --description TEXT what it is about (at most 500 characters)\n"
     "  --member USER      add USER at once (repeat for more); if the safety\n"
     "                     rules refuse one, nothing is created\n"
     "  add GROUP USER     add USER (admins only). An adult cannot add an\n"
     "                     under-18 who does not follow them; blocks and\n"
     "                     privacy hold as for messages. The newcomer gets\n"
     "                     your key and cannot read earlier messages\n"
     "  remove GROUP USER  remove USER (admins only); every member makes a\n"
     "                     new key before sending again, so USER cannot read\n"
     "                     what is sent after\n"
     "  leave GROUP        leave the group; this device forgets its keys\n"
     "  --block            also block whoever added you to it (one step for\n"
     "                     someone added by a stranger)\n"
     "  role GROUP USER R  make USER an admin, or a plain member (admins\n"
     "                     only; a group keeps at least one admin)\n"
     "  avatar GROUP FILE  set the group's picture (JPEG, PNG, GIF or WebP;\n"
     "                     admins only). The server sees it, as on every\n"
     "                     platform, and refuses an image on its hash lists\n"
     "  --remove           remove it (admins only)\n"
     "  --save FILE        save it to FILE (a new file, 0600)\n"
     "  ls [GROUP]         your groups (id, name, your role), or one group's\n"
     "                     details, members and your sender key's id\n"
     "\n"
     "Under-18s added to a group are told who added them ('ward recv').\n"
     "Inside a group the safety rules still hold: an adult's messages reach\n"
     "no under-18 who does not follow them, and a block keeps two members'\n"
     "messages apart both ways ('ward send --group' says how many members a\n"
     "message was kept from).\n"
     "\n"
     "Exit codes: 0 done, 1 refused or failed (the reason in a sentence;\n"
     "also for a group you are not in), 2 usage.\n",
     cli_group},
    {"trust", "accept a contact's changed identity key",
     "usage: ward trust USER [--user NAME]\n"
     "\n"
     "After USER's identity key changed (a new phone, or someone pretending to\n"
     "be them), check with them by another channel, then accept the new key.\n",
     cli_trust},
    {"history", "list the received messages kept for reporting",
     "usage: ward history [USER] [--user NAME] [--server URL]\n"
     "\n"
     "Lists the messages shown on this device that it keeps so that they can\n"
     "be reported (all, or those from USER), oldest first, each with the id\n"
     "that 'ward report' takes: [ID] FROM: TEXT (a group message: [ID] FROM\n"
     "in group GID: TEXT). A message is kept for 90\n"
     "days after it was shown (the state setting keep_days changes that),\n"
     "then deleted from the device.\n",
     cli_history},
    {"follow", "follow someone",
     "usage: ward follow USER [--user NAME] [--server URL]\n"
     "\n"
     "Follows USER. An under-18 can be contacted only by adults they follow,\n"
     "and a private account only by accounts it follows; the server may\n"
     "refuse (for example if USER blocked you), and says why.\n",
     cli_follow_cmd},
    {"unfollow", "stop following someone",
     "usage: ward unfollow USER [--user NAME] [--server URL]\n", cli_unfollow},
    {"block", "block someone: they can no longer contact you",
     "usage: ward block USER [--user NAME] [--server URL]\n"
     "\n"
     "Blocks USER: they can no longer fetch your keys or message you, and the\n"
     "follows between you (both ways) are removed. Blocking is never refused.\n",
     cli_block},
    {"unblock", "unblock someone",
     "usage: ward unblock USER [--user NAME] [--server URL]\n", cli_unblock},
    {"find", "find an account by its exact username",
     "usage: ward find USER [--user NAME] [--server URL]\n"
     "\n"
     "Says whether the account USER exists and whether you follow each other.\n"
     "An account the safety rules hide from you is reported exactly like one\n"
     "that does not exist (exit 1).\n",
     cli_find},
    {"contacts", "list who you follow, who follows you, who you blocked",
     "usage: ward contacts [following|followers|blocked] [--user NAME]\n"
     "                     [--server URL]\n"
     "\n"
     "Without an argument, the three lists, one a line. With one, that list\n"
     "alone, one name a line.\n",
     cli_contacts},
    {"suggestions", "people you may know (followed by people you follow)",
     "usage: ward suggestions [--limit N] [--user NAME] [--server URL]\n"
     "\n"
     "Accounts followed by the accounts you follow, that you do not follow\n"
     "yet, the most shared first. The server computes them and leaves out\n"
     "anyone the safety rules keep from you.\n"
     "\n"
     "  --limit N          at most N (1 to 100, default 10)\n",
     cli_suggestions},
    {"privacy", "show or set whether your account is private",
     "usage: ward privacy [on|off] [--user NAME] [--server URL]\n"
     "\n"
     "A private account can be found and contacted only by the accounts it\n"
     "follows. Under-18s' accounts start private, adults' public. Without an\n"
     "argument, shows the setting.\n",
     cli_privacy},
    {"report", "report a message or an account to the operator",
     "usage: ward report USER MESSAGE_ID --reason REASON [--note TEXT]\n"
     "       ward report USER --reason REASON [--note TEXT]\n"
     "\n"
     "With MESSAGE_ID (the number in [brackets] before a message that\n"
     "'ward recv', 'ward chat' and 'ward history' show), reveals that one\n"
     "message from USER to the operator: its text, any image's key (so the\n"
     "server can fetch, decrypt and check the image), the franking key,\n"
     "commitment and tag that prove USER sent exactly it, the sender and the\n"
     "time. Nothing else of your conversations is revealed. Only messages\n"
     "shown on this device in the last 90 days can be reported.\n"
     "\n"
     "Without MESSAGE_ID, reports the account itself (its profile or\n"
     "behaviour) without revealing any message.\n"
     "\n"
     "  --reason REASON    csam (or child-sexual-exploitation), grooming,\n"
     "                     sexual-harassment, harassment, spam, other\n"
     "  --note TEXT        what the moderators should know (at most 1,000\n"
     "                     characters)\n"
     "\n"
     "Prints the report's id and priority, and what the server verified.\n"
     "If a child is in danger now, call the police as well.\n",
     cli_report},
    {"serve", "run the server: HTTP API, WebSocket delivery, metrics",
     "usage: ward serve [--config FILE] [--data DIR] [--listen ADDR:PORT]\n"
     "                  [--tls-cert FILE --tls-key FILE] [--port-file FILE]\n"
     "\n"
     "Serves the HTTP/1.1 JSON API, WebSocket delivery (subprotocol ward.v1\n"
     "on /v1/ws), GET /healthz and GET /metrics (Prometheus text). Messages\n"
     "are kept in SQLite (WAL) at DIR/ward.db until their recipient\n"
     "acknowledges them. Logs are JSON lines on stderr. SIGTERM or SIGINT\n"
     "stops accepting, finishes the requests in flight, closes WebSocket\n"
     "sessions (1001) and exits 0.\n"
     "\n"
     "  --config FILE      read settings from FILE: 'name = value' lines with\n"
     "                     the options below ('_' may stand for '-'); '#'\n"
     "                     starts a comment; the command line wins\n"
     "  --data DIR         data directory, created 0700 (default ./ward-data)\n"
     "  --listen ADDR:PORT IPv4 address and port (default 127.0.0.1:8080;\n"
     "                     port 0 picks a free one)\n"
     "  --tls-cert FILE    PEM certificate (chain); with --tls-key, serve\n"
     "  --tls-key FILE     HTTPS and wss:// instead of plain HTTP\n"
     "  --port-file FILE   write the port there once listening\n"
     "  --match-dir DIR    hash lists ('ward list', --dir) that every image\n"
     "                     the server sees (group avatars) is checked\n"
     "                     against; one on a list is refused (read at start)\n"
     "\n"
     "Limits (sizes take B, KiB, MiB, GiB; durations ms, s, m, h, d):\n"
     "  --max-body SIZE        JSON request body (256KiB)\n"
     "  --max-message SIZE     ciphertext of one message (64KiB)\n"
     "  --max-attachment SIZE  encrypted attachment (100MiB)\n"
     "  --max-queue N          messages queued per recipient (10000)\n"
     "  --max-group-members N  members of one group, its creator too (1000;\n"
     "                         at most 100000)\n"
     "  --max-prekeys N        one-time prekeys stored per account (1000)\n"
     "  --prekeys-low N        below this, ask the owner for more (10)\n"
     "  --token-ttl DURATION   login token lifetime (30d)\n"
     "  --attachment-ttl DURATION  attachments are deleted after (30d)\n"
     "  --shutdown-grace DURATION  drain time on SIGTERM (3s)\n"
     "  --login-per-minute R, --login-burst N      per account name (5, 10);\n"
     "                     per address five times these\n"
     "  --register-per-minute R, --register-burst N  per address (10, 20)\n"
     "  --send-per-minute R, --send-burst N        per sender (60000, 1000)\n"
     "  --upload-per-minute R, --upload-burst N    attachments per uploader\n"
     "                     (100, 50)\n"
     "  --group-per-minute R, --group-burst N      group creations and adds\n"
     "                     per account (30, 60)\n"
     "  --pwhash COST      Argon2id cost: interactive (default), moderate,\n"
     "                     or min (tests and benchmarks only)\n"
     "  --pwhash-threads N threads that hash passwords, off the event\n"
     "                     loop (2)\n"
     "\n"
     "Child safety:\n"
     "  --suspicious-window DURATION  an adult blocked or reported by\n"
     "  --suspicious-signals N        N distinct minors within the window\n"
     "                     is flagged suspicious (30d, 1)\n"
     "  --report-per-minute R, --report-burst N  reports per reporter\n"
     "                     (10, 20)\n"
     "  --max-suggestions N  most friend suggestions per request (50)\n"
     "  --franking-rotate DURATION  a new franking key after (30d); keys\n"
     "                     live in DIR/franking, reread every minute and\n"
     "                     on SIGHUP\n"
     "  --franking-retain DURATION  an old key verifies reports this long\n"
     "                     after it was replaced (365d)\n"
     "\n"
     "Exit codes: 0 after a clean stop, 1 if it cannot start, 2 usage.\n",
     cli_serve},
    {"hash", "PDQ perceptual hash and exact hashes of image files",
     "usage: ward hash [-r] [-j N] [--format default|text|csv|json]\n"
     "                 [--dihedral] [--orient] [--max-pixels N] PATH...\n"
     "\n"
     "Hashes each image file (JPEG, PNG, WebP, GIF's first frame, BMP, PNM)\n"
     "with PDQ, Meta's perceptual hash, bit for bit as the reference does on\n"
     "full-resolution pixels (the hashes NCMEC, ThreatExchange, StopNCII and\n"
     "HMA exchange), and the file's bytes with MD5 and SHA-256. One line per\n"
     "file, in the order given; '-' reads paths from standard input, one a\n"
     "line. A file that cannot be hashed gets one line on stderr and the\n"
     "others go on. A progress bar shows on a terminal; a summary line\n"
     "(files, failures, seconds) ends the run on stderr.\n"
     "\n"
     "  -r, --recursive   hash the files under directories (name order;\n"
     "                    links to directories are not followed)\n"
     "  -j N              N threads (1 to 64; default 1)\n"
     "  --format F        default: pdq,quality,md5,sha256,path\n"
     "                    text:    pdq,quality,path (the reference's)\n"
     "                    csv:     a header, then\n"
     "                             pdq,quality,reliable,md5,sha256,path\n"
     "                    json:    one object per line\n"
     "  --dihedral        the 8 variants (orig, rot90, rot180, rot270,\n"
     "                    flipx, flipy, flipplus1, flipminus1) in place of\n"
     "                    the one hash\n"
     "  --orient          apply the JPEG's EXIF orientation first (hash\n"
     "                    lists are made without it, which is the default)\n"
     "  --max-pixels N    refuse images whose header claims more pixels\n"
     "                    (100000000)\n"
     "\n"
     "A quality below 50 is reported on stderr: that hash is unreliable, as\n"
     "the reference advises (csv and json mark it too).\n"
     "\n"
     "Exit codes: 0 all hashed, 1 some failed, 2 usage.\n",
     cli_hash},
    {"list", "the operator's hash lists: import, add, remove, export, ls, rm",
     "usage: ward list import NAME FILE [--format F] [--type T] [--source TEXT]\n"
     "                        [--strict] [--replace]\n"
     "       ward list add NAME FILE [--format F] [--type T] [--strict]\n"
     "       ward list remove NAME FILE [--format F] [--type T] [--strict]\n"
     "       ward list export NAME [--format F] [-o FILE]\n"
     "       ward list ls\n"
     "       ward list rm NAME\n"
     "       ward list compact\n"
     "       (each also takes --data DIR, the lists being in DIR/lists, or\n"
     "       --lists DIR; default ./ward-data/lists)\n"
     "\n"
     "Hash lists of known abuse images (PDQ, MD5, SHA-256), as NCMEC, Meta's\n"
     "ThreatExchange and industry partners share them. All lists of a\n"
     "directory are kept in one index file that 'ward match' and 'ward\n"
     "serve' map read-only, and a journal of the changes made since it was\n"
     "built (add, remove, rm), which readers replay when they open the\n"
     "lists. An import writes a new index beside the old one and renames it\n"
     "over; a change to the journal is one synced append. Either way readers\n"
     "see the lists before or after the change, whole.\n"
     "\n"
     "  import NAME FILE   read FILE ('-': standard input) into a new list\n"
     "                     NAME (1 to 64 of A-Z a-z 0-9 . _ -). Malformed\n"
     "                     lines are reported by number and skipped\n"
     "  --format F         auto (default, from the first line), reference\n"
     "                     ([hash=]HEX[,metadata], Meta's C++ tools, and\n"
     "                     plain one-hash-per-line lists), te ('pdq HEX'\n"
     "                     lines, python-threatexchange), te-csv\n"
     "                     (signal_type,signal_str,collab,category,tags)\n"
     "  --type T           pdq, md5 or sha256 for hashes without a type:\n"
     "                     otherwise 32 hex digits are MD5 and 64 are PDQ\n"
     "  --source TEXT      where the list came from (shown by ls)\n"
     "  --strict           refuse the whole file at its first bad line\n"
     "  --replace          replace an existing list of that name\n"
     "  add NAME FILE      add FILE's entries to the list (a day's new\n"
     "                     hashes); an entry already in it with the same\n"
     "                     labels is not added again\n"
     "  remove NAME FILE   remove from the list every entry whose hash is in\n"
     "                     FILE (labels in FILE are ignored)\n"
     "  export NAME        write the list in the format it came in (or\n"
     "                     --format), to standard output or -o FILE\n"
     "  ls                 each list: entries by type, format, import day,\n"
     "                     source; and the journal's size\n"
     "  rm NAME            remove a list\n"
     "  compact            fold the journal into a new index file (done\n"
     "                     unasked once the journal holds more than 65,536\n"
     "                     changes and 1/64 of the index)\n"
     "\n"
     "Exit codes: 0 done, 1 failed (nothing changed), 2 usage.\n",
     cli_list},
    {"match", "match images or hashes against the hash lists",
     "usage: ward match [--radius R] [--dihedral] [--orient] [--format text|json]\n"
     "                  [--min-quality Q] [--max-pixels N]\n"
     "                  [--data DIR | --lists DIR] IMAGE...\n"
     "       ward match [--radius R] [--type T] [--format text|json]\n"
     "                  [--data DIR | --lists DIR] --hashes FILE\n"
     "\n"
     "Finds every list entry an image or a hash matches: the image's MD5\n"
     "and SHA-256 exactly, its PDQ hash within the radius (exact search:\n"
     "every entry within it, nothing missed). One line per hit on standard\n"
     "output, tab-separated:\n"
     "  QUERY LIST TYPE DISTANCE [VARIANT] HASH LABELS\n"
     "(QUERY is the image's path, or FILE:LINE for --hashes), or a JSON\n"
     "object per line with --format json.\n"
     "\n"
     "  --radius R         PDQ Hamming distance, 0 to 64 (31, Meta's\n"
     "                     advice for a match)\n"
     "  --dihedral         also match the image's 7 rotations and mirrors\n"
     "                     (from its DCT; each entry once, nearest first);\n"
     "                     adds the VARIANT column\n"
     "  --orient           apply the JPEG's EXIF orientation before hashing\n"
     "  --min-quality Q    a PDQ hash of lower quality (0-100) is not\n"
     "                     matched, only the exact hashes (50, as HMA does)\n"
     "  --max-pixels N     refuse larger images (100,000,000)\n"
     "  --hashes FILE      match the hashes of a hash list file ('-':\n"
     "                     standard input) instead, in any format 'ward\n"
     "                     list import' reads; --type as there\n"
     "\n"
     "A progress bar is shown on a terminal for 20 images or more, or a\n"
     "hashes file over 1 MiB.\n"
     "\n"
     "Exit codes: 0 no hits, 3 hits, 1 an input could not be read or\n"
     "hashed (hits are still printed), 2 usage.\n",
     cli_match},
    {"admin", "operator commands: moderators, franking keys",
     "usage: ward admin add-moderator NAME [--role moderator|admin] "
     "[--data DIR]\n"
     "       ward admin list-moderators [--data DIR]\n"
     "       ward admin disable-moderator|enable-moderator NAME [--data DIR]\n"
     "       ward admin rotate-franking-key [--data DIR]\n"
     "\n"
     "Works on the server's database, DIR/ward.db (the directory given to\n"
     "'ward serve --data'; default ./ward-data), also while the server runs.\n"
     "Moderators log in to the moderation console at /console/ of 'ward\n"
     "serve'. A moderator reviews reports and decides on them; an admin may\n"
     "also add, disable and promote moderators and lift suspensions and\n"
     "bans. Every change is written to the console's audit log.\n"
     "\n"
     "  add-moderator NAME   create a moderator (NAME: 3 to 32 of a-z, 0-9,\n"
     "                       '.', '_', '-'); the password is read from the\n"
     "                       terminal without echo (asked twice), else one\n"
     "                       line of standard input, or $WARD_PASSWORD. At\n"
     "                       least 12 characters, not containing the name\n"
     "  --role ROLE          moderator (default) or admin\n"
     "  list-moderators      id, name, role and state of each\n"
     "  disable-moderator NAME  refuse its logins and end its sessions\n"
     "  enable-moderator NAME   allow it to log in again\n"
     "  rotate-franking-key  write a new server franking key to\n"
     "                       DIR/franking; the server tags new messages with\n"
     "                       it within a minute (at once on SIGHUP), and the\n"
     "                       old keys still verify reports until\n"
     "                       --franking-retain after this\n"
     "  --data DIR           the server's data directory (./ward-data)\n"
     "\n"
     "Exit codes: 0 done, 1 failed, 2 usage.\n",
     cli_admin},
    {"help", "show help for ward or one of its commands",
     "usage: ward help [COMMAND]\n", cmd_help},
    {"version", "print ward's version", "usage: ward version\n", cmd_version},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

void cli_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
        else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            p[0] = '?', p[1] = '?'; /* C1 controls (CSI and the like) */
    }
}

int cli_read_password(const char *prompt, int from_stdin, char *out,
                      size_t cap)
{
    struct termios old, quiet;
    int tty = !from_stdin && isatty(STDIN_FILENO);
    if (tty) {
        fputs(prompt, stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    int ok = fgets(out, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = 0;
    return 0;
}

void cli_error(const char *fmt, ...)
{
    /* Errors quote servers and files: nothing in them may drive the
     * terminal. */
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_sanitize(msg);
    fprintf(stderr, "ward: %s\n", msg);
}

static void print_overview(FILE *f)
{
    fprintf(f, "usage: ward [--help] [--version] COMMAND [ARGS]\n\n"
               "ward is an end-to-end encrypted messenger with child-safety\n"
               "protections that do not read messages.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nSee 'ward help COMMAND' for one command's options.\n");
}

static const cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fputs("usage: ward version\n", stderr);
        return CLI_USAGE;
    }
    printf("ward %s\n", WARD_VERSION);
    return CLI_OK;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return CLI_OK;
    }
    const cli_command *c = find(argv[1]);
    if (!c) {
        cli_error("'%s' is not a ward command; see 'ward --help'", argv[1]);
        return CLI_USAGE;
    }
    fputs(c->usage, stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cmd_help(1, argv + 1);
    if (strcmp(name, "--version") == 0)
        return cmd_version(1, argv + 1);
    const cli_command *c = find(name);
    if (!c) {
        cli_error("'%s' is not a ward command; see 'ward --help'", name);
        return CLI_USAGE;
    }
    /* "ward CMD --help" is the same as "ward help CMD". */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(c->usage, stdout);
            return CLI_OK;
        }
    }
    if (ward_crypto_init() != WARD_OK) {
        cli_error("cannot initialise the crypto library");
        return CLI_FAIL;
    }
    return c->run(argc - 1, argv + 1);
}
