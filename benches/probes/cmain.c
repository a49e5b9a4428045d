/* `int main(void) { return 0; }`: the C run-time's start-up and exit, built
 * twice by benches/build.rs, static and dynamic. */

int main(void)
{
    return 0;
}
