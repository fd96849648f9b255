#include <nn/network.hpp>
int main() { nn::basic_network<nn::policies<int>, 2, 2> net; }
