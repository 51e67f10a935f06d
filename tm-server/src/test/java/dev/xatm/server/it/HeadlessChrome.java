package dev.xatm.server.it;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * A headless Chromium driven through its chromedriver, both named by the environment
 * ({@code TM_TEST_CHROMEDRIVER}, {@code TM_TEST_CHROMIUM}; Debian's /usr/bin paths otherwise).
 * Without them a test is skipped and counted, except under {@code CI=true}, where a missing browser
 * fails it. Selenium is handed both paths, so it never looks for (or downloads) a browser itself.
 * One instance per test; not thread-safe.
 */
final class HeadlessChrome implements AutoCloseable {
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    final ChromeDriver driver;
    private final Path profile;

    private HeadlessChrome(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** Aborts the calling test (an assumption) when no browser is installed, unless under CI. */
    static void assumeInstalled() {
        Map<String, String> env = System.getenv();
        String missing = missing(env);
        if (missing != null && "true".equalsIgnoreCase(env.get("CI"))) {
            throw new AssertionError("CI=true but " + missing + " (.ci/run installs chromium and chromium-driver)");
        }
        Assumptions.assumeTrue(missing == null, () -> missing + ": install chromium and chromium-driver to run the console's browser test");
    }

    static HeadlessChrome start() throws IOException {
        assumeInstalled();
        Path profile = Files.createTempDirectory("xatm-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser(System.getenv()).toString());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(driverBinary(System.getenv()).toFile()).usingAnyFreePort().build();
        return new HeadlessChrome(new ChromeDriver(service, options), profile);
    }

    /** The current page as target/console-screenshots/{@code name}.png. */
    Path screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Path png = SCREENSHOTS.resolve(name + ".png");
        Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), png, StandardCopyOption.REPLACE_EXISTING);
        return png;
    }

    @Override
    public void close() {
        driver.quit();
        try (var files = Files.walk(profile)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary profile left behind is harmless
        }
    }

    private static String missing(Map<String, String> env) {
        if (!Files.isExecutable(driverBinary(env))) {
            return "no chromedriver at " + driverBinary(env);
        }
        if (!Files.isExecutable(browser(env))) {
            return "no chromium at " + browser(env);
        }
        return null;
    }

    private static Path driverBinary(Map<String, String> env) {
        return Path.of(env.getOrDefault("TM_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"));
    }

    private static Path browser(Map<String, String> env) {
        return Path.of(env.getOrDefault("TM_TEST_CHROMIUM", "/usr/bin/chromium"));
    }
}
