using RealtimeDemo.RealtimeGateway.Chat;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>The gateway's group commit (what stores room messages): batches form only while a commit is in flight.</summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>A commit that waits for the test's word, and remembers every batch it was given.</summary>
    private sealed class HeldCommit
    {
        private readonly List<TaskCompletionSource> _releases = [];

        public List<IReadOnlyList<int>> Batches { get; } = [];

        public Exception? FailWith { get; set; }

        public async Task<IReadOnlyList<string>> CommitAsync(IReadOnlyList<int> batch)
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (Batches)
            {
                Batches.Add(batch);
                _releases.Add(release);
            }

            await release.Task;
            return FailWith is { } error ? throw error : [.. batch.Select(n => $"stored {n}")];
        }

        public void Release(int batch)
        {
            lock (Batches)
            {
                _releases[batch].SetResult();
            }
        }

        public async Task WaitForBatchesAsync(int count)
        {
            using var timeout = new CancellationTokenSource(Patience);
            while (Batches.Count < count)
            {
                await Task.Delay(5, timeout.Token);
            }
        }
    }

    [Fact]
    public async Task A_lone_request_is_committed_at_once_as_a_batch_of_one()
    {
        var commit = new HeldCommit();
        var commits = new GroupCommit<int, string>(commit.CommitAsync, maxBatch: 64);

        var result = commits.SubmitAsync(1);
        await commit.WaitForBatchesAsync(1);
        commit.Release(0);

        Assert.Equal("stored 1", await result.WaitAsync(Patience, TestContext.Current.CancellationToken));
        Assert.Equal([[1]], commit.Batches);
    }

    [Fact]
    public async Task Requests_that_arrive_while_a_commit_is_in_flight_go_together_in_the_next_one_each_with_its_own_result()
    {
        var commit = new HeldCommit();
        var commits = new GroupCommit<int, string>(commit.CommitAsync, maxBatch: 3);

        var first = commits.SubmitAsync(1);
        await commit.WaitForBatchesAsync(1);
        var waiting = Enumerable.Range(2, 4).Select(commits.SubmitAsync).ToList();
        commit.Release(0);
        await commit.WaitForBatchesAsync(2);
        commit.Release(1);
        await commit.WaitForBatchesAsync(3);
        commit.Release(2);

        var results = await Task.WhenAll(waiting.Prepend(first)).WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal(["stored 1", "stored 2", "stored 3", "stored 4", "stored 5"], results);
        // At most maxBatch at a time, in the order they arrived.
        Assert.Equal([[1], [2, 3, 4], [5]], commit.Batches);
    }

    [Fact]
    public async Task A_failed_commit_fails_every_request_in_its_batch_and_the_next_batch_still_goes()
    {
        var commit = new HeldCommit { FailWith = new TimeoutException("Redis did not answer") };
        var commits = new GroupCommit<int, string>(commit.CommitAsync, maxBatch: 64);

        var first = commits.SubmitAsync(1);
        await commit.WaitForBatchesAsync(1);
        var second = commits.SubmitAsync(2);
        var third = commits.SubmitAsync(3);
        commit.Release(0);
        await Assert.ThrowsAsync<TimeoutException>(() => first.WaitAsync(Patience, TestContext.Current.CancellationToken));

        await commit.WaitForBatchesAsync(2);
        commit.FailWith = null;
        commit.Release(1);
        Assert.Equal(["stored 2", "stored 3"], await Task.WhenAll(second, third).WaitAsync(Patience, TestContext.Current.CancellationToken));
    }
}
