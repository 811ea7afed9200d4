// netprobe lo            -> "lo OK" when a TCP connection over 127.0.0.1 works inside
// netprobe connect IP PORT -> "connect OK" or "connect ERRNO-NAME"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int try_connect(const char* ip, int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return errno;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  int rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
  close(s);
  return rc;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "lo") == 0) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(l, 1) < 0 ||
        getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) < 0) {
      printf("lo %s\n", strerrorname_np(errno));
      return 1;
    }
    int rc = try_connect("127.0.0.1", ntohs(a.sin_port));
    printf("lo %s\n", rc ? strerrorname_np(rc) : "OK");
    return rc ? 1 : 0;
  }
  if (argc == 4 && strcmp(argv[1], "connect") == 0) {
    int rc = try_connect(argv[2], atoi(argv[3]));
    printf("connect %s\n", rc ? strerrorname_np(rc) : "OK");
    return rc ? 1 : 0;
  }
  fprintf(stderr, "usage: netprobe lo | netprobe connect IP PORT\n");
  return 2;
}
