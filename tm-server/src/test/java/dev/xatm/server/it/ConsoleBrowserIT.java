package dev.xatm.server.it;

import dev.xatm.protocol.v1.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console in a real (headless) browser against a real tm-server: an operator logs in with the
 * admin token, finds a committed transaction and an in-doubt one (its agent died with both branches
 * prepared after the COMMIT decision), reads the in-doubt reason, the branches and the timeline, is
 * warned before a forced rollback that the API refuses it (409: the COMMIT decision is durable) and
 * sees the refusal change nothing, then forces the commit, which the server carries out through its
 * own recovery connections: both rows committed, nothing left prepared; the history names the operator
 * the token stands for and the reason typed in the page. A screenshot of each page is written under target/console-screenshots/.
 */
class ConsoleBrowserIT extends ServerItSupport {
    private static final Duration UI_WAIT = Duration.ofSeconds(20);

    @Override
    protected void assumeApplies(TestInfo info) {
        HeadlessChrome.assumeInstalled();
    }

    /** The server's own connections to both databases, so a forced outcome can finish a dead agent's branches. */
    @Override
    protected Map<String, String> serverProperties(TestInfo info) {
        Map<String, String> p = new LinkedHashMap<>();
        for (var db : dbs.both()) {
            p.put("tm.server.resources." + db.resourceId() + ".url", db.url());
            p.put("tm.server.resources." + db.resourceId() + ".username", db.user());
            p.put("tm.server.resources." + db.resourceId() + ".password", db.password());
        }
        return p;
    }

    @Test
    void anOperatorFindsInspectsAndResolvesAnInDoubtTransactionInTheConsole() throws Exception {
        TestAgent agent = startAgent("console-agent");
        Txn committed = beginOnBothDatabases(agent, 60_000);
        assertThat(tm.commit(committed.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        awaitCommittedEverywhere(committed, agent);

        agent.holdCommits();
        Txn stuck = beginOnBothDatabases(agent, 60_000);
        assertThat(tm.commit(stuck.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        await().atMost(CONVERGE).until(() -> agent.heldCommitCount() == 2);
        agent.crash(); // both branches stay prepared, and this agent never comes back
        await("listed in doubt").atMost(CONVERGE).until(() -> admin().inDoubt().contains(stuck.gtrid()));

        try (HeadlessChrome chrome = HeadlessChrome.start()) {
            WebDriver d = chrome.driver;
            WebDriverWait wait = new WebDriverWait(d, UI_WAIT);

            // Log in: a wrong token is refused by the API, the right one opens the transaction list.
            d.get("http://127.0.0.1:" + server.httpPort() + "/console/");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys("not-the-admin-token-at-all");
            d.findElement(By.id("login")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "token was refused"));
            assertThat(d.findElement(By.id("view-login")).isDisplayed()).isTrue();
            chrome.screenshot("01-login-refused");
            d.findElement(By.id("token")).sendKeys(server.adminToken());
            d.findElement(By.id("login")).click();

            // The list: both transactions with their status; the status filter narrows it.
            WebElement committedRow = wait.until(ExpectedConditions.presenceOfElementLocated(txRow("tx-table", committed.gtrid())));
            WebElement stuckRow = d.findElement(txRow("tx-table", stuck.gtrid()));
            assertThat(committedRow.getText()).contains("FINISHED_COMMITTED").contains("2PC");
            assertThat(stuckRow.getText()).contains("COMMITTING");
            assertThat(d.findElement(By.id("page-info")).getText()).contains("page 1 of 1");
            chrome.screenshot("02-transactions");
            new Select(d.findElement(By.id("f-status"))).selectByVisibleText("COMMITTING");
            d.findElement(By.id("f-apply")).click();
            wait.until(ExpectedConditions.invisibilityOfElementLocated(txRow("tx-table", committed.gtrid())));
            assertThat(d.findElements(txRow("tx-table", stuck.gtrid()))).hasSize(1);
            new Select(d.findElement(By.id("f-status"))).selectByVisibleText("any");
            d.findElement(By.id("f-age")).sendKeys("1.5");
            d.findElement(By.id("f-apply")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "whole number of seconds"));
            assertThat(d.findElements(By.cssSelector("#tx-table tbody tr"))).as("a bad filter changes nothing").hasSize(1);
            d.findElement(By.id("f-age")).clear();
            d.findElement(By.id("f-name")).sendKeys("no-transaction-has-this-name");
            d.findElement(By.id("f-apply")).click();
            wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#tx-table tbody tr"), 0));
            d.findElement(By.id("f-name")).clear();
            d.findElement(By.id("f-apply")).click();
            wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#tx-table tbody tr"), 2));

            // The in-doubt list: only the stuck one, with its reason.
            d.findElement(By.id("nav-in-doubt")).click();
            WebElement inDoubtRow = wait.until(ExpectedConditions.presenceOfElementLocated(txRow("in-doubt-table", stuck.gtrid())));
            assertThat(inDoubtRow.getText()).contains("AGENT_GONE");
            assertThat(d.findElements(txRow("in-doubt-table", committed.gtrid()))).isEmpty();
            chrome.screenshot("03-in-doubt");

            // The detail: its branches (each waiting for COMMIT, agent gone) and its timeline.
            inDoubtRow.findElement(By.cssSelector("a[data-xid]")).click();
            wait.until(ExpectedConditions.textToBe(By.id("detail-xid"), stuck.gtrid()));
            List<WebElement> branches = d.findElements(By.cssSelector("#branches tbody tr"));
            assertThat(branches).hasSize(2).allSatisfy(b -> assertThat(b.getText()).contains("GONE").contains("COMMIT"));
            assertThat(d.findElement(By.id("timeline")).getText()).contains("BEGUN").contains("DECISION_DURABLE").contains("AGENT_GONE");
            chrome.screenshot("04-detail");

            // A forced rollback: the confirmation says the API refuses it and why; sent anyway, it is refused.
            d.findElement(By.id("act-rollback")).click();
            WebElement warning = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-warning")));
            assertThat(warning.getText()).contains("409").contains("COMMIT decision is durable");
            chrome.screenshot("05-confirm-refused-rollback");
            d.findElement(By.id("confirm-send")).click();
            WebElement result = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("action-result")));
            assertThat(result.getText()).startsWith("Refused (409)").contains("COMMIT decision");
            assertThat(result.getAttribute("class")).isEqualTo("refused");
            assertThat(prepared(pg)).containsExactly(stuck.pgXid());
            assertThat(prepared(maria)).containsExactly(stuck.mariaXid());
            assertThat(admin().status(stuck.gtrid())).isEqualTo("COMMITTING");

            // The forced commit: no warning; the server commits both branches through its recovery connections.
            d.findElement(By.id("act-commit")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-send")));
            assertThat(d.findElement(By.id("confirm-warning")).isDisplayed()).isFalse();
            d.findElement(By.id("reason")).sendKeys("ticket 42");
            d.findElement(By.id("confirm-send")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("action-result"), "Done"));
            assertThat(d.findElement(By.id("action-result")).getText()).contains("recovery connection");

            await("committed through the recovery connections").atMost(CONVERGE).untilAsserted(() -> {
                assertThat(rows(pg)).containsExactlyInAnyOrder(committed.pgRow(), stuck.pgRow());
                assertThat(rows(maria)).containsExactlyInAnyOrder(committed.mariaRow(), stuck.mariaRow());
            });
            awaitNothingPrepared();
            await().atMost(CONVERGE).until(() -> admin().status(stuck.gtrid()).equals("FINISHED_COMMITTED"));

            // The console shows the outcome and both operator actions in the timeline.
            d.navigate().refresh();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("detail-fields"), "FINISHED_COMMITTED"));
            String timeline = d.findElement(By.id("timeline")).getText();
            // the operator is the one the token names, not anything typed in the page
            assertThat(timeline).contains("FORCE_REFUSED").contains("FORCED_COMMIT").contains("operator admin (resolve token)")
                    .contains("ticket 42");
            chrome.screenshot("06-detail-resolved");
            d.findElement(By.id("nav-in-doubt")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("in-doubt-table"), "Nothing is in doubt."));

            // The cluster view of a server alone on its file store.
            d.findElement(By.id("nav-cluster")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("cluster-summary"), "file store"));
            chrome.screenshot("07-cluster");
        }
    }

    private static By txRow(String table, String xid) {
        return By.cssSelector("#" + table + " tbody tr[data-xid='" + xid + "']");
    }
}
