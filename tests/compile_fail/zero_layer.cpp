#include <nn/network.hpp>
int main() { nn::network<784, 0, 10> net; }
