using System.Diagnostics;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Group commit: requests that arrive while a batch is being committed wait and go together in the next one, so
/// under load one round trip commits many; a request that finds nothing in flight goes at once, as a batch of one,
/// so a quiet system adds no latency. At most <paramref name="maxBatch"/> per batch.
/// </summary>
internal sealed class GroupCommit<TRequest, TResult>(Func<IReadOnlyList<TRequest>, Task<IReadOnlyList<TResult>>> commit, int maxBatch)
{
    private readonly Lock _gate = new();
    private List<Pending> _waiting = [];
    private bool _committing;

    /// <summary>Commits the request with those around it; faults with the batch's error if the batch fails.</summary>
    public Task<TResult> SubmitAsync(TRequest request)
    {
        var pending = new Pending(request, Activity.Current);
        bool lead;
        lock (_gate)
        {
            _waiting.Add(pending);
            lead = !_committing;
            _committing = true;
        }

        if (lead)
        {
            // Runs until nothing waits; every failure lands on the requests' own tasks, so nothing is lost by not awaiting it.
            _ = CommitWhileWaitingAsync();
        }

        return pending.Result.Task;
    }

    private async Task CommitWhileWaitingAsync()
    {
        while (TakeBatch() is { } batch)
        {
            // The commit's own spans (the Redis call) belong to the trace of the batch's first request.
            Activity.Current = batch[0].Activity;
            try
            {
                var results = await commit([.. batch.Select(pending => pending.Request)]);
                if (results.Count != batch.Count)
                {
                    throw new InvalidOperationException($"A commit of {batch.Count} requests answered {results.Count}.");
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Result.TrySetResult(results[i]);
                }
            }
            catch (Exception error)
            {
                foreach (var pending in batch)
                {
                    pending.Result.TrySetException(error);
                }
            }
        }
    }

    private List<Pending>? TakeBatch()
    {
        lock (_gate)
        {
            if (_waiting.Count == 0)
            {
                _committing = false;
                return null;
            }

            if (_waiting.Count <= maxBatch)
            {
                var all = _waiting;
                _waiting = [];
                return all;
            }

            var batch = _waiting.GetRange(0, maxBatch);
            _waiting.RemoveRange(0, maxBatch);
            return batch;
        }
    }

    private sealed record Pending(TRequest Request, Activity? Activity)
    {
        // Asynchronous continuations: a request's caller must not run on the committing loop and hold up the next batch.
        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
