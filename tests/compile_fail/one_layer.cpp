#include <nn/network.hpp>
int main() { nn::network<784> net; }
